import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineAssembler, parseLine } from '@tributary/container-log';
import { decodeEnvelope, encodeEnvelope, fileEnvelopeIds } from '@tributary/envelope';
import { fileIdentityKey, fileJsonParts, lineRecord, lineValue, ValueBlocks, type SourceFile } from './envelope.js';

const file: SourceFile = {
  node: 'node-a',
  path: '/var/log/pods/payments_api-0_6f1c0001/api/0.log',
  container: { namespace: 'payments', pod: 'api-0', podUid: '6f1c0001', container: 'api' },
  identity: { dev: 2049, ino: 77, fingerprint: '0123456789abcdef' },
  truncations: 0,
};

function lines(text: string, maxLineBytes?: number) {
  const assembler = new LineAssembler(maxLineBytes === undefined ? {} : { maxLineBytes });
  const parsed = parseLine('cri', Buffer.from(text));
  assert.ok(parsed.ok);
  return assembler.push(parsed.chunk, 1000);
}

test('a line becomes an envelope that decodes, keyed by pod uid and container', async () => {
  const [line] = lines('2026-11-25T10:00:00.123456789Z stderr F boom');
  const record = lineRecord(line!, file);
  assert.equal(record.key, '6f1c0001/api');
  const decoded = await decodeEnvelope(record.value);
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
  assert.deepEqual(decoded.envelope, record.envelope);
  assert.equal(record.envelope.stream, 'stderr');
  assert.equal(record.envelope.time, '2026-11-25T10:00:00.123456789Z');
  assert.deepEqual(record.envelope.source, { kind: 'file', node: 'node-a', path: file.path, offset: 1000 });
  assert.equal(record.envelope.kubernetes?.namespace, 'payments');
});

test('ids are the same when read again, and differ by node, file, truncation and piece', () => {
  const [line] = lines('2026-11-25T10:00:00Z stdout F hello');
  const id = lineRecord(line!, file).envelope.id;
  assert.equal(lineRecord(line!, file).envelope.id, id, 'read again after a crash: same id');
  assert.equal(lineRecord(line!, { ...file, path: `${file.path}.1` }).envelope.id, id, 'renamed by rotation: same file, same id');
  for (const other of [{ ...file, node: 'node-b' }, { ...file, identity: { ...file.identity, ino: 78 } }, { ...file, identity: { ...file.identity, fingerprint: 'fedcba9876543210' } }, { ...file, truncations: 1 }]) {
    assert.notEqual(lineRecord(line!, other).envelope.id, id);
  }
  const pieces = lines(`2026-11-25T10:00:00Z stdout F ${'x'.repeat(100)}`, 40);
  assert.equal(pieces.length, 3);
  assert.equal(new Set(pieces.map((p) => lineRecord(p, file).envelope.id)).size, 3);
});

test('a line that is too large once encoded (control characters escape to six bytes) is cut to fit one Kafka record, with a marker, never refused forever', async () => {
  const [line] = lines(`2026-11-25T10:00:00.123456789Z stdout F ${'\u0001'.repeat(300_000)}`, 512 * 1024);
  const record = lineRecord(line!, file);
  assert.equal(record.truncated, true);
  assert.ok(record.value.length <= 1024 * 1024 - 64 * 1024, `${record.value.length} bytes`);
  assert.ok(record.value.length > 900_000, 'cut no more than needed');
  assert.match(record.envelope.message, /…\[truncated by the forwarder: over 983040 bytes encoded\]$/);
  const decoded = await decodeEnvelope(record.value);
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
  assert.equal(lineRecord(lines('2026-11-25T10:00:00.123456789Z stdout F short')[0]!, file).truncated, false);
});

test('the value is byte for byte what encodeEnvelope writes, with or without the file’s JSON made once', () => {
  const labelled: SourceFile = { ...file, path: '/var/log/pods/pay"ments_api-0_6f1c0001/api/0.log', labels: { app: 'checkout', 'team/ü': 'a"b' } };
  const contents = ['hello', 'quote " backslash \\ tab \t', 'ünïcödé 🚀', '\u0001\u001f control', '{"level":"info","msg":"json inside"}', ''];
  for (const source of [file, labelled, { ...labelled, json: fileJsonParts(labelled) }]) {
    for (const content of contents) {
      for (const stream of ['stdout', 'stderr']) {
        const [line] = lines(`2026-11-25T10:00:00.123456789Z ${stream} F ${content}`);
        const record = lineRecord(line!, source);
        assert.deepEqual(record.value, encodeEnvelope(record.envelope), `${JSON.stringify(content)} ${stream}`);
      }
    }
  }
});

test('values written into shared blocks are the values, side by side without overlap; ids made once per file are the same', () => {
  const blocks = new ValueBlocks(4096);
  const prepared: SourceFile = { ...file, json: fileJsonParts(file), ids: fileEnvelopeIds(file.node, fileIdentityKey(file)) };
  const values: Buffer[] = [];
  const expected: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const [line] = lines(`2026-11-25T10:00:00.123456789Z stdout F ${'ü'.repeat(i * 7)} line ${i}`);
    values.push(lineValue(line!, prepared, undefined, blocks).value);
    expected.push(lineRecord(line!, file).value);
  }
  assert.deepEqual(values, expected);
  assert.ok(values[1]!.buffer === values[2]!.buffer, 'consecutive values share a block');
  // A value larger than a block gets a buffer of its own.
  const [big] = lines(`2026-11-25T10:00:00.123456789Z stdout F ${'x'.repeat(5000)}`);
  assert.deepEqual(lineValue(big!, prepared, undefined, blocks).value, lineRecord(big!, file).value);
});
