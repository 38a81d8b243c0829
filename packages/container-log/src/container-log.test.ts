import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLogBytes, detectFormat, LineAssembler, parseContainerLinkName, parseLine, parsePodLogPath, type AssembledLine, type LogFormat } from './index.js';

/** Reads `text` as a container log file would be read: line by line, with each line's offset. */
function assemble(format: LogFormat, text: string | Buffer, options?: { maxLineBytes?: number }): { lines: AssembledLine[]; errors: string[]; assembler: LineAssembler } {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const assembler = new LineAssembler(options);
  const lines: AssembledLine[] = [];
  const errors: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf(0x0a, offset);
    const line = bytes.subarray(offset, end < 0 ? bytes.length : end);
    const parsed = parseLine(format, line);
    if (parsed.ok) lines.push(...assembler.push(parsed.chunk, offset));
    else errors.push(parsed.reason);
    offset = end < 0 ? bytes.length : end + 1;
  }
  return { lines, errors, assembler };
}

const docker = (log: string, stream = 'stdout', time = '2026-11-25T10:00:00.000000001Z'): string => `${JSON.stringify({ log, stream, time })}\n`;
const cri = (tag: 'P' | 'F', content: string, stream = 'stdout', time = '2026-11-25T10:00:00.123456789Z'): string => `${time} ${stream} ${tag} ${content}\n`;

test('docker json-file: a 40 KiB line the runtime split in three at 16 KiB is one line again', () => {
  const long = 'x'.repeat(40 * 1024);
  const file = docker(long.slice(0, 16384)) + docker(long.slice(16384, 32768)) + docker(`${long.slice(32768)}\n`) + docker('next\n');
  const { lines, errors } = assemble('docker', file);
  assert.deepEqual(errors, []);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.message, long);
  assert.equal(lines[0]?.chunks, 3);
  assert.equal(lines[0]?.offset, 0, 'the id comes from the first chunk’s offset');
  assert.equal(lines[1]?.message, 'next');
  assert.equal(lines[1]?.offset, Buffer.byteLength(file) - Buffer.byteLength(docker('next\n')));
});

test('CRI: P, P, F chunks are one line; the time is the first chunk’s', () => {
  const file = cri('P', 'hello ', 'stdout', '2026-11-25T10:00:00.1Z') + cri('P', 'wide ', 'stdout', '2026-11-25T10:00:00.2Z') + cri('F', 'world', 'stdout', '2026-11-25T10:00:00.3Z');
  const { lines } = assemble('cri', file);
  assert.equal(lines.length, 1);
  assert.deepEqual({ message: lines[0]?.message, time: lines[0]?.time, chunks: lines[0]?.chunks, part: lines[0]?.part, last: lines[0]?.last }, { message: 'hello wide world', time: '2026-11-25T10:00:00.1Z', chunks: 3, part: 0, last: true });
});

test('interleaved stdout and stderr partials are joined per stream and never mix', () => {
  const file = cri('P', 'out-1 ', 'stdout') + cri('P', 'err-1 ', 'stderr') + cri('F', 'out-2', 'stdout') + cri('F', 'err-2', 'stderr');
  const { lines } = assemble('cri', file);
  assert.deepEqual(lines.map((l) => [l.stream, l.message]), [['stdout', 'out-1 out-2'], ['stderr', 'err-1 err-2']]);
  const offsets = lines.map((l) => l.offset);
  assert.deepEqual(offsets, [0, Buffer.byteLength(cri('P', 'out-1 ', 'stdout'))]);
});

test('empty lines are lines, in both formats', () => {
  assert.deepEqual(assemble('cri', cri('F', '') + '2026-11-25T10:00:00Z stdout F\n').lines.map((l) => l.message), ['', '']);
  assert.deepEqual(assemble('docker', docker('\n') + docker('a\n')).lines.map((l) => l.message), ['', 'a']);
});

test('invalid UTF-8 is kept visible as \\xNN, never dropped; valid text is untouched', () => {
  const line = Buffer.concat([Buffer.from('2026-11-25T10:00:00Z stdout F caf'), Buffer.from([0xc3]), Buffer.from(' ok '), Buffer.from([0xff, 0xfe]), Buffer.from(' é €\n')]);
  const { lines } = assemble('cri', line);
  assert.equal(lines[0]?.message, 'caf\\xC3 ok \\xFF\\xFE é €');
  assert.equal(lines[0]?.invalidBytes, 3);
  assert.deepEqual(decodeLogBytes(Buffer.from('plain ✓')), { text: 'plain ✓', invalidBytes: 0 });
  // Overlong encodings and surrogates are not valid UTF-8 either.
  assert.equal(decodeLogBytes(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80])).text, '\\xC0\\xAF\\xED\\xA0\\x80');
});

test('an oversized line is split into pieces at UTF-8 boundaries, each with its part number; nothing is lost', () => {
  const text = 'é'.repeat(50); // 100 bytes, 2 each
  const file = cri('P', text.slice(0, 20)) + cri('P', text.slice(20, 40)) + cri('F', text.slice(40));
  const { lines } = assemble('cri', file, { maxLineBytes: 33 });
  assert.deepEqual(lines.map((l) => [l.part, l.last, Buffer.byteLength(l.message)]), [[0, false, 32], [1, false, 32], [2, false, 32], [3, true, 4]]);
  assert.equal(lines.map((l) => l.message).join(''), text);
  assert.ok(lines.every((l) => l.offset === 0), 'every piece carries the line’s offset; part tells them apart');
});

test('resumeOffset stays at the first chunk of a line not yet finished; flush emits it marked incomplete', () => {
  const first = cri('F', 'done');
  const { assembler, lines } = assemble('cri', first + cri('P', 'half of a line'));
  assert.equal(lines.length, 1);
  assert.equal(assembler.pendingLines, 1);
  assert.equal(assembler.resumeOffset(999), Buffer.byteLength(first));
  const flushed = assembler.flush();
  assert.equal(flushed[0]?.message, 'half of a line');
  assert.equal(flushed[0]?.incomplete, true);
  assert.equal(assembler.resumeOffset(999), 999);
});

test('lines that are not the format are refused with a reason, not thrown', () => {
  const { errors } = assemble('cri', 'garbage\n2026-11-25T10:00:00Z stdin F x\n2026-11-25T10:00:00Z stdout X y\nnot-a-time stdout F z\n');
  assert.equal(errors.length, 4);
  assert.match(errors[1] ?? '', /stream "stdin"/);
  assert.match(errors[2] ?? '', /tag "X"/);
  const bad = assemble('docker', '{"log":1}\n{"log":"a","stream":"stdout","time":"yesterday"}\n{not json\n');
  assert.equal(bad.errors.length, 3);
  assert.match(bad.errors[1] ?? '', /"time"/);
});

test('the format is detected from the first line', () => {
  assert.equal(detectFormat(Buffer.from('{"log":"x\\n"}')), 'docker');
  assert.equal(detectFormat(Buffer.from('2026-11-25T10:00:00Z stdout F x')), 'cri');
});

test('paths map to namespace, pod, pod uid and container; rotated files too; others are refused', () => {
  const path = '/var/log/pods/payments_checkout-api-7f9c5d-x2x9q_6f1c0001-0d3e-4a8b-9c51-2b7e00000001/api/0.log';
  assert.deepEqual(parsePodLogPath(path), { ok: true, file: { namespace: 'payments', pod: 'checkout-api-7f9c5d-x2x9q', podUid: '6f1c0001-0d3e-4a8b-9c51-2b7e00000001', container: 'api' } });
  assert.equal(parsePodLogPath(`${path}.20261125-101500`).ok, true);
  assert.equal(parsePodLogPath('/var/log/pods/payments/api/0.log').ok, false);
  assert.equal(parsePodLogPath('/var/log/pods/Payments_p_1/api/0.log').ok, false);
  const link = parseContainerLinkName(`/var/log/containers/checkout-api-7f9c5d-x2x9q_payments_api-${'a'.repeat(64)}.log`);
  assert.deepEqual(link, { ok: true, pod: 'checkout-api-7f9c5d-x2x9q', namespace: 'payments', container: 'api', containerId: 'a'.repeat(64) });
});

test('CRI: the byte-level fast path reads what the string path reads, tags with more after ":" included', () => {
  const cases: Array<[string, { stream: string; partial: boolean; content: string; time: string } | RegExp]> = [
    ['2026-11-25T10:00:00.123456789Z stdout F hello world', { stream: 'stdout', partial: false, content: 'hello world', time: '2026-11-25T10:00:00.123456789Z' }],
    ['2026-11-25T10:00:00Z stderr P part', { stream: 'stderr', partial: true, content: 'part', time: '2026-11-25T10:00:00Z' }],
    ['2026-11-25T10:00:00+02:00 stdout F:extra:tags content', { stream: 'stdout', partial: false, content: 'content', time: '2026-11-25T10:00:00+02:00' }],
    ['2026-11-25T10:00:00Z stdout F', { stream: 'stdout', partial: false, content: '', time: '2026-11-25T10:00:00Z' }],
    ['2026-11-25T10:00:00Z stdout F ', { stream: 'stdout', partial: false, content: '', time: '2026-11-25T10:00:00Z' }],
    ['2026-11-25T10:00:00Z stdout FP x', /tag "FP"/],
    ['2026-11-25T10:00:00Z stdoux F x', /stream "stdoux"/],
    ['2026-11-25T10:00:00Z stdouts F x', /stream "stdouts"/],
    ['yesterday! stdout F x', /not an RFC 3339 time/],
  ];
  for (const [line, expected] of cases) {
    const parsed = parseLine('cri', Buffer.from(line));
    if (expected instanceof RegExp) {
      assert.ok(!parsed.ok, line);
      assert.match(parsed.reason, expected, line);
      continue;
    }
    assert.ok(parsed.ok, line);
    const { stream, partial, content, time } = parsed.chunk;
    assert.deepEqual({ stream, partial, content: content.toString(), time }, expected, line);
  }
});

test('docker: the text JSON.parse decoded is the message, the same as decoding the bytes; a lone surrogate becomes U+FFFD as in the bytes', () => {
  for (const log of ['plain\n', 'ünïcödé 🚀 "quoted" \\ \t\n', 'partial, no newline', '\ud800 lone\n']) {
    const parsed = parseLine('docker', Buffer.from(docker(log).trimEnd()));
    assert.ok(parsed.ok);
    const fromBytes = decodeLogBytes(parsed.chunk.content).text;
    assert.equal(parsed.chunk.content.toString(), Buffer.from(log.endsWith('\n') ? log.slice(0, -1) : log).toString());
    const [line] = new LineAssembler().push({ ...parsed.chunk, content: parsed.chunk.content, partial: false, ...(parsed.chunk.text === undefined ? {} : { text: parsed.chunk.text }) }, 0);
    assert.equal(line?.message, fromBytes, JSON.stringify(log));
  }
  // A one-chunk line longer than the limit is still split on its bytes, though its text came decoded.
  const long = parseLine('docker', Buffer.from(docker(`${'é'.repeat(50)}\n`).trimEnd()));
  assert.ok(long.ok);
  const pieces = new LineAssembler({ maxLineBytes: 40 }).push(long.chunk, 0);
  assert.deepEqual(pieces.map((p) => Buffer.byteLength(p.message)), [40, 40, 20]);
});
