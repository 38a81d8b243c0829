import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineAssembler, parseLine, type LogFormat } from '@tributary/container-log';
import { prng } from '@tributary/testkit';
import { decodeEnvelope, fileEnvelopeIdPrefix, fileEnvelopeIds } from '@tributary/envelope';
import { fileIdentityKey, fileJsonParts, lineValue, ValueBlocks, type SourceFile } from './envelope.js';
import { LineEnvelopeWriter } from './line-envelope.js';

const base = {
  node: 'node-a',
  path: '/var/log/pods/payments_api-0_6f1c0001/api/0.log',
  container: { namespace: 'payments', pod: 'api-0', podUid: '6f1c0001', container: 'api' },
  identity: { dev: 2049, ino: 77, fingerprint: '0123456789abcdef' },
  truncations: 0,
  labels: { app: 'api', 'team.example.com/owner': 'zoë' },
};
const file: SourceFile = { ...base, json: fileJsonParts(base), ids: fileEnvelopeIds(base.node, fileIdentityKey(base)) };
const idPrefix = Buffer.from(fileEnvelopeIdPrefix(base.node, fileIdentityKey(base)));
const MAX_LINE = 4096;
const MAX_RECORD = 8192;

/** What the general path (parse, assemble, encode) makes of one line read at `offset`, if it makes one record. */
function general(format: LogFormat, line: Buffer, offset: number): Buffer | undefined {
  const parsed = parseLine(format, line);
  if (!parsed.ok) return undefined;
  const lines = new LineAssembler({ maxLineBytes: MAX_LINE }).push(parsed.chunk, offset);
  if (lines.length !== 1) return undefined;
  const record = lineValue(lines[0]!, file, MAX_RECORD);
  return record.truncated ? undefined : record.value;
}

function writer(blocks = new ValueBlocks(64 * 1024)): LineEnvelopeWriter {
  return new LineEnvelopeWriter(file.json!, blocks, MAX_LINE, MAX_RECORD);
}

function fast(w: LineEnvelopeWriter, format: LogFormat, line: Buffer, offset: number): Buffer | undefined {
  // In the middle of a larger block, as the reader's lines are: nothing outside the line is read.
  const data = Buffer.concat([Buffer.from('{"log":"x\\n","stream":"stdout","time":"2026-11-25T10:00:00Z"}\n'), line, Buffer.from('\n2026-11-25T10:00:00Z stdout F next')]);
  const begin = data.length - line.length - 35;
  return format === 'cri' ? w.cri(data, begin, begin + line.length, offset, idPrefix) : w.docker(data, begin, begin + line.length, offset, idPrefix);
}

/** Text as Go's encoding/json writes it (docker's json-file): <, >, & and U+2028/9 escaped too, lowercase hex. */
function goString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const PIECES = ['a', 'Z', ' ', '"', '\\', '/', '{"k":"v"}', '\t', '\n', '\r', '\b', '\f', '\u0001', '\u001f', '\u007f', 'é', '€', '😀', '\u2028', '\ufeff', '<', '&', 'x'.repeat(50)];
const RAW = [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x80]];
const TIMES = ['2026-11-25T10:00:00.123456789Z', '2026-11-25T10:00:00Z', '2026-11-25T10:00:00.5+02:00', '2026-11-25T10:00:00.1234567890Z', '2026-11-25 10:00:00Z', '2026-11-25T10:00:00', '2026-11-25T10:00:00.Z', '2026-11-25T10:00:00-0100'];

function content(next: () => number, length: number, raw: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < length; i++) {
    if (raw && next() < 0.05) parts.push(Buffer.from(RAW[Math.floor(next() * RAW.length)]!));
    else parts.push(Buffer.from(PIECES[Math.floor(next() * PIECES.length)]!));
  }
  return Buffer.concat(parts);
}

test('a CRI line written from its bytes is byte for byte what the general path writes, or left to it', () => {
  const next = prng(1);
  const w = writer();
  let written = 0;
  for (let n = 0; n < 5000; n++) {
    const time = next() < 0.8 ? TIMES[0]! : TIMES[Math.floor(next() * TIMES.length)]!;
    const stream = next() < 0.9 ? (next() < 0.5 ? 'stdout' : 'stderr') : 'stdin';
    const tag = next() < 0.8 ? 'F' : ['P', 'F:x', 'X', ''][Math.floor(next() * 4)]!;
    const body = content(next, Math.floor(next() * 40), true);
    const line = next() < 0.05 ? Buffer.from(`${time} ${stream} ${tag}`) : Buffer.concat([Buffer.from(`${time} ${stream} ${tag} `), body]);
    const offset = next() < 0.01 ? Number.MAX_SAFE_INTEGER : Math.floor(next() * 1e12);
    const mine = fast(w, 'cri', line, offset);
    if (mine === undefined) continue;
    written++;
    assert.deepEqual(mine.toString('latin1'), general('cri', line, offset)?.toString('latin1'), `line ${JSON.stringify(line.toString('latin1'))}`);
  }
  assert.ok(written > 2500, `${written} of 5000 written from their bytes`);
});

test('a docker json-file line written from its bytes is byte for byte what the general path writes, or left to it', () => {
  const next = prng(2);
  const w = writer();
  let written = 0;
  for (let n = 0; n < 5000; n++) {
    const time = next() < 0.8 ? TIMES[0]! : TIMES[Math.floor(next() * TIMES.length)]!;
    const stream = next() < 0.95 ? (next() < 0.5 ? 'stdout' : 'stderr') : 'stdin';
    let log = content(next, Math.floor(next() * 40), false).toString('utf8');
    if (next() < 0.9) log += '\n';
    const escape = next() < 0.5 ? goString : JSON.stringify;
    let encoded = escape(log);
    // What docker doesn't write, and lines that aren't docker's at all.
    const odd = next();
    if (odd < 0.02) encoded = encoded.replace('"', '"\\ud800');
    else if (odd < 0.04) encoded = encoded.replace(/"$/, '\\uDE00"');
    else if (odd < 0.05) encoded = encoded.replace(/"$/, '\\ud83d\\ude00"');
    else if (odd < 0.06) encoded = encoded.replace(/"$/, '\\u00E9\\/"');
    let text = `{"log":${encoded},"stream":"${stream}","time":"${time}"}`;
    if (odd > 0.97) text = `{"log":${encoded},"stream":"${stream}","attrs":{"a":"b"},"time":"${time}"}`;
    else if (odd > 0.95) text = text.replace('","time"', '", "time"');
    let line = Buffer.from(text);
    if (odd > 0.93 && odd <= 0.95) line = Buffer.concat([line.subarray(0, 10), Buffer.from([0xff]), line.subarray(10)]);
    const offset = next() < 0.01 ? Number.MAX_SAFE_INTEGER : Math.floor(next() * 1e12);
    const mine = fast(w, 'docker', line, offset);
    if (mine === undefined) continue;
    written++;
    assert.deepEqual(mine.toString('latin1'), general('docker', line, offset)?.toString('latin1'), `line ${JSON.stringify(line.toString('latin1'))}`);
  }
  assert.ok(written > 2500, `${written} of 5000 written from their bytes`);
});

test('plain lines are written from their bytes; partial, oversized and odd ones are left to the general path', async () => {
  const w = writer();
  const cri = Buffer.from('2026-11-25T10:00:00.123456789Z stderr F {"level":"error","msg":"boom \\"quoted\\""}');
  const value = fast(w, 'cri', cri, 42);
  assert.ok(value);
  const decoded = await decodeEnvelope(value);
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
  assert.equal(decoded.envelope.message, '{"level":"error","msg":"boom \\"quoted\\""}');
  assert.equal(decoded.envelope.stream, 'stderr');
  assert.deepEqual(decoded.envelope.source, { kind: 'file', node: 'node-a', path: file.path, offset: 42 });
  assert.ok(fast(w, 'docker', Buffer.from('{"log":"hello \\u003cworld\\u003e\\n","stream":"stdout","time":"2026-11-25T10:00:00.5Z"}'), 7));
  assert.equal(fast(w, 'cri', Buffer.from('2026-11-25T10:00:00Z stdout P half'), 0), undefined, 'a partial chunk waits for the assembler');
  assert.equal(fast(w, 'docker', Buffer.from('{"log":"half","stream":"stdout","time":"2026-11-25T10:00:00Z"}'), 0), undefined, 'no trailing newline: split by the runtime');
  assert.equal(fast(w, 'cri', Buffer.from(`2026-11-25T10:00:00Z stdout F ${'x'.repeat(MAX_LINE + 1)}`), 0), undefined, 'over the line limit: cut in pieces by the assembler');
  assert.equal(fast(w, 'cri', Buffer.from(`2026-11-25T10:00:00Z stdout F ${'\u0001'.repeat(MAX_LINE - 1)}`), 0), undefined, 'over the record limit once escaped: cut by lineValue');
  // Invalid UTF-8 is counted, as the assembler counts it.
  assert.ok(fast(w, 'cri', Buffer.concat([Buffer.from('2026-11-25T10:00:00Z stdout F a'), Buffer.from([0xff, 0xfe])]), 0));
  assert.equal(w.invalidBytes, 2);
  assert.ok(fast(w, 'cri', Buffer.from('2026-11-25T10:00:00Z stdout F a'), 0));
  assert.equal(w.invalidBytes, 0);
});

test('values share blocks, and a line that is left to the general path writes nothing into them', () => {
  const blocks = new ValueBlocks(4096);
  const w = writer(blocks);
  const a = fast(w, 'cri', Buffer.from('2026-11-25T10:00:00Z stdout F first'), 0)!;
  assert.equal(fast(w, 'cri', Buffer.from('2026-11-25T10:00:00Z stdout P partial'), 100), undefined);
  const b = fast(w, 'cri', Buffer.from('2026-11-25T10:00:00Z stdout F second'), 200)!;
  assert.equal(a.buffer, b.buffer, 'one block');
  assert.equal(b.byteOffset, a.byteOffset + a.length, 'side by side, nothing between');
  assert.match(a.toString(), /"message":"first"/);
  assert.match(b.toString(), /"message":"second"/);
});
