import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  ENVELOPE_AVRO_SCHEMA,
  MAX_FIELD_ERRORS,
  decodeEnvelope,
  encodeEnvelope,
  fileEnvelopeId,
  fileEnvelopeIdPrefix,
  fileEnvelopeIds,
  newSdkEnvelopeId,
  type DecodeFailure,
  type DecodeOptions,
  type Envelope,
} from './index.js';
import { firstInvalidUtf8Byte } from './internal/utf8.js';

const fileEnvelope: Envelope = {
  id: fileEnvelopeId('node-a', '2049:1234567:1716000000', 4096),
  time: '2026-11-25T10:00:00.123456789Z',
  stream: 'stdout',
  message: '{"level":"info","msg":"paid"}',
  source: { kind: 'file', node: 'node-a', path: '/var/log/pods/payments_checkout-1_uid-1/api/0.log', offset: 4096 },
  kubernetes: { namespace: 'payments', pod: 'checkout-1', pod_uid: 'uid-1', container: 'api', labels: { app: 'checkout', 'app.kubernetes.io/name': 'checkout' } },
};

const sdkEnvelope: Envelope = {
  id: newSdkEnvelopeId(),
  time: '2026-11-25T10:00:00.123Z',
  stream: 'stderr',
  message: 'zahlung fehlgeschlagen: ümlaut, 日本語, 🚀',
  source: { kind: 'sdk', app: 'billing', host: 'vm-7' },
};

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
const plain = (envelope: Envelope): Record<string, unknown> => JSON.parse(JSON.stringify(envelope)) as Record<string, unknown>;

async function decodeFailure(bytes: Buffer, options?: DecodeOptions): Promise<DecodeFailure> {
  const result = await decodeEnvelope(bytes, options);
  assert.equal(result.ok, false, `expected a failure for ${bytes?.subarray(0, 80).toString('hex')}`);
  if (result.ok) throw new Error('unreachable');
  assert.equal(result.class, 'decode');
  return result;
}

test('a file envelope and an SDK envelope round-trip through JSON', async () => {
  for (const envelope of [fileEnvelope, sdkEnvelope]) {
    const result = await decodeEnvelope(encodeEnvelope(envelope));
    assert.deepEqual(result, { ok: true, envelope, framing: 'json' });
  }
});

test('encoding writes the contract fields only, in contract order, as UTF-8 JSON', () => {
  const withExtras = { ...fileEnvelope, extra: 1, source: { ...fileEnvelope.source, inode: 7 } } as unknown as Envelope;
  const text = encodeEnvelope(withExtras).toString('utf8');
  assert.deepEqual(Object.keys(JSON.parse(text) as object), ['id', 'time', 'stream', 'message', 'source', 'kubernetes']);
  assert.doesNotMatch(text, /extra|inode/);
  assert.deepEqual(Object.keys(JSON.parse(encodeEnvelope({ ...sdkEnvelope, kubernetes: undefined }).toString()) as object), ['id', 'time', 'stream', 'message', 'source']);
});

test('a message with a lone surrogate survives the round trip (JSON escapes it, the bytes stay valid UTF-8)', async () => {
  const envelope: Envelope = { ...sdkEnvelope, message: 'half a pair: \ud800 end' };
  const bytes = encodeEnvelope(envelope);
  assert.equal(firstInvalidUtf8Byte(bytes), -1);
  assert.deepEqual(await decodeEnvelope(bytes), { ok: true, envelope, framing: 'json' });
});

test('lenient where other producers differ harmlessly', async () => {
  const cases: Array<[string, Record<string, unknown>, Envelope]> = [
    ['unknown fields are ignored and not copied', { ...plain(fileEnvelope), level: 'info', source: { ...plain(fileEnvelope)['source'] as object, inode: 7 }, kubernetes: { ...fileEnvelope.kubernetes, node: 'x' } }, fileEnvelope],
    ['kubernetes null is kubernetes absent', { ...plain(sdkEnvelope), kubernetes: null }, sdkEnvelope],
    ['labels null are labels absent', { ...plain(fileEnvelope), kubernetes: { ...fileEnvelope.kubernetes, labels: null } }, { ...fileEnvelope, kubernetes: { namespace: 'payments', pod: 'checkout-1', pod_uid: 'uid-1', container: 'api' } }],
    ['time without fraction digits', { ...plain(sdkEnvelope), time: '2026-11-25T10:00:00Z' }, { ...sdkEnvelope, time: '2026-11-25T10:00:00Z' }],
  ];
  for (const [name, value, expected] of cases) {
    assert.deepEqual(await decodeEnvelope(json(value)), { ok: true, envelope: expected, framing: 'json' }, name);
  }
  // A UTF-8 byte order mark (some Windows producers write one) is not part of the JSON.
  const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), encodeEnvelope(sdkEnvelope)]);
  assert.equal((await decodeEnvelope(withBom)).ok, true);
  // A Uint8Array that is not a Buffer decodes the same.
  assert.equal((await decodeEnvelope(new Uint8Array(encodeEnvelope(sdkEnvelope)) as Buffer)).ok, true);
});

test('a "__proto__" label stays a label', async () => {
  const text = encodeEnvelope(fileEnvelope).toString().replace('"app":"checkout"', '"__proto__":"evil","app":"checkout"');
  const result = await decodeEnvelope(Buffer.from(text));
  assert.ok(result.ok);
  const labels = result.envelope.kubernetes?.labels ?? {};
  assert.equal(Object.getPrototypeOf(labels), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value, 'evil');
});

test('bytes that are not UTF-8 fail naming the first bad byte', async () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from([0x7b, 0xff, 0xfe]), /^not valid UTF-8 at byte 1 \(0xff\)$/],
    [Buffer.from([0x7b, 0xc0, 0x80]), /at byte 1 \(0xc0\)/], // overlong NUL
    [Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80]), /at byte 2 \(0xed\)/], // a UTF-16 surrogate
    [Buffer.from([0x7b, 0x22, 0xf4, 0x90, 0x80, 0x80]), /at byte 2 \(0xf4\)/], // past U+10FFFF
    [Buffer.concat([Buffer.from('{"message":"a'), Buffer.from([0xe2, 0x82])]), /at byte 13 \(0xe2\)/], // cut short
  ];
  for (const [bytes, reason] of cases) assert.match((await decodeFailure(bytes)).reason, reason);
});

test('the UTF-8 position finder agrees with TextDecoder on random and near-valid bytes', () => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const valid = Buffer.from('ascii ü € 🚀 日本語');
  for (let i = 0; i < 5000; i++) {
    const bytes = i % 2 === 0 ? randomBytes(i % 24) : Buffer.from(valid);
    if (i % 2 === 1) bytes[i % bytes.length] = randomBytes(1)[0] as number;
    let decodes = true;
    try {
      decoder.decode(bytes);
    } catch {
      decodes = false;
    }
    assert.equal(firstInvalidUtf8Byte(bytes) === -1, decodes, bytes.toString('hex'));
  }
});

test('truncated JSON (a line split at 16 KiB) fails with the parser message', async () => {
  const whole = encodeEnvelope({ ...fileEnvelope, message: 'x'.repeat(40_000) });
  const failure = await decodeFailure(whole.subarray(0, 16 * 1024));
  assert.match(failure.reason, /^not valid JSON: /);
  assert.ok(failure.reason.length < 400, 'the parser message is cut, not the whole input');

  // Split inside a multi-byte character: the cut character is what is reported.
  const header = encodeEnvelope({ ...fileEnvelope, message: 'MARK' }).indexOf('MARK');
  const split = encodeEnvelope({ ...fileEnvelope, message: `${'x'.repeat(16 * 1024 - 1 - header)}${'€'.repeat(100)}` }).subarray(0, 16 * 1024);
  assert.match((await decodeFailure(split)).reason, /^not valid UTF-8 at byte 16383 \(0xe2\)$/);
});

test('JSON that is not an object fails saying what it is', async () => {
  const cases: Array<[string, RegExp]> = [
    ['[1,2]', /must be a JSON object, got an array/],
    ['null', /must be a JSON object, got null/],
    ['"just a line"', /must be a JSON object, got string/],
    ['42', /must be a JSON object, got number/],
  ];
  for (const [text, reason] of cases) assert.match((await decodeFailure(Buffer.from(text))).reason, reason, text);
  assert.match((await decodeFailure(Buffer.from('plain text line'))).reason, /^not valid JSON: /);
});

test('missing fields are each listed with their path', async () => {
  const failure = await decodeFailure(json({}));
  assert.equal(failure.reason, 'invalid envelope: id is required; time is required; stream is required (stdout or stderr); message is required; source is required');
  assert.deepEqual(failure.errors?.map((e) => e.path), ['id', 'time', 'stream', 'message', 'source']);

  const file = await decodeFailure(json({ ...plain(fileEnvelope), source: { kind: 'file' } }));
  assert.deepEqual(file.errors?.map((e) => `${e.path}: ${e.reason}`), ['source.node: is required', 'source.path: is required', 'source.offset: is required']);
  const sdk = await decodeFailure(json({ ...plain(sdkEnvelope), source: { kind: 'sdk', app: '' } }));
  assert.equal(sdk.reason, 'invalid envelope: source.app: must not be empty; source.host is required');
  const k8s = await decodeFailure(json({ ...plain(sdkEnvelope), kubernetes: { namespace: 'payments' } }));
  assert.deepEqual(k8s.errors?.map((e) => e.path), ['kubernetes.pod', 'kubernetes.pod_uid', 'kubernetes.container']);
});

test('wrong types are each listed with their path and what was found', async () => {
  const failure = await decodeFailure(json({ id: 42, time: true, stream: 'STDOUT', message: 7, source: { kind: 'pipe' }, kubernetes: 'payments' }));
  assert.equal(
    failure.reason,
    'invalid envelope: id: must be a string, got number; time: must be a string, got boolean; stream: must be stdout or stderr, got "STDOUT"; ' +
      'message: must be a string, got number; source.kind: must be file or sdk, got "pipe"; kubernetes: must be an object, got string',
  );
  const offsets: Array<[unknown, string]> = [
    [-1, 'must be a non-negative integer, got -1'],
    [1.5, 'must be a non-negative integer, got 1.5'],
    ['12', 'must be a non-negative integer, got string'],
  ];
  for (const [offset, reason] of offsets) {
    const result = await decodeFailure(json({ ...plain(fileEnvelope), source: { ...fileEnvelope.source, offset } }));
    assert.deepEqual(result.errors, [{ path: 'source.offset', reason }]);
  }
  const labels = await decodeFailure(json({ ...plain(fileEnvelope), kubernetes: { ...fileEnvelope.kubernetes, labels: { app: 1, 'app.kubernetes.io/name': null } } }));
  assert.deepEqual(labels.errors, [
    { path: 'kubernetes.labels.app', reason: 'must be a string, got number' },
    { path: 'kubernetes.labels["app.kubernetes.io/name"]', reason: 'must be a string, got null' },
  ]);
  const source = await decodeFailure(json({ ...plain(fileEnvelope), source: [] }));
  assert.deepEqual(source.errors, [{ path: 'source', reason: 'must be an object, got an array' }]);
});

test('a record with many bad fields reports some and counts the rest', async () => {
  const labels = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`l${i}`, i]));
  const failure = await decodeFailure(json({ ...plain(fileEnvelope), kubernetes: { ...fileEnvelope.kubernetes, labels } }));
  assert.equal(failure.errors?.length, MAX_FIELD_ERRORS);
  assert.match(failure.reason, new RegExp(`; and ${500 - MAX_FIELD_ERRORS} more$`));
});

test('time must be RFC 3339 with a zone and at most 9 fraction digits', async () => {
  const good = ['2026-11-25T10:00:00Z', '2026-11-25T10:00:00.1Z', '2026-11-25T10:00:00.123456789Z', '2026-11-25T10:00:00+02:00', '2026-11-25T10:00:00.5-05:30', '2026-11-25t10:00:00z', '2024-02-29T00:00:00Z', '2000-02-29T23:59:59Z'];
  for (const time of good) assert.equal((await decodeEnvelope(json({ ...plain(sdkEnvelope), time }))).ok, true, time);
  const bad: Array<[string, RegExp]> = [
    ['2026-11-25T10:00:00', /must be an RFC 3339 timestamp with a zone/],
    ['2026-11-25 10:00:00Z', /must be an RFC 3339 timestamp/],
    ['2026-11-25T10:00:00.Z', /must be an RFC 3339 timestamp/],
    ['2026-1-25T10:00:00Z', /must be an RFC 3339 timestamp/],
    ['1764064800', /must be an RFC 3339 timestamp/],
    ['', /must be an RFC 3339 timestamp/],
    ['2026-11-25T10:00:00.1234567890Z', /at most 9 fraction digits/],
    ['2026-13-01T00:00:00Z', /month 13 is out of range/],
    ['2023-02-29T00:00:00Z', /day 29 is out of range for 2023-02/],
    ['1900-02-29T00:00:00Z', /day 29 is out of range/],
    ['2026-04-31T00:00:00Z', /day 31 is out of range/],
    ['2026-11-00T00:00:00Z', /day 00 is out of range/],
    ['2026-11-25T24:00:00Z', /time of day 24:00 is out of range/],
    ['2026-12-31T23:59:60Z', /leap seconds are not accepted/],
    ['2026-11-25T10:00:00+24:00', /zone offset 24:00 is out of range/],
  ];
  for (const [time, reason] of bad) {
    const failure = await decodeFailure(json({ ...plain(sdkEnvelope), time }));
    assert.equal(failure.errors?.[0]?.path, 'time', time);
    assert.match(failure.reason, reason, time);
    assert.ok(failure.reason.includes(JSON.stringify(time)), `names the value: ${failure.reason}`);
  }
});

test('id must be non-empty, at most 256 characters and a valid Elasticsearch _id', async () => {
  const cases: Array<[string, string | null]> = [
    ['a', null],
    ['a'.repeat(256), null],
    ['€'.repeat(170), null], // 510 bytes
    ['', 'must not be empty'],
    ['a'.repeat(257), 'must be at most 256 characters, got 257'],
    ['€'.repeat(200), 'must be at most 512 bytes in UTF-8 (an Elasticsearch _id), got 600'],
  ];
  for (const [id, reason] of cases) {
    const result = await decodeEnvelope(json({ ...plain(sdkEnvelope), id }));
    if (reason === null) assert.equal(result.ok, true, id);
    else assert.deepEqual(result.ok ? null : result.errors, [{ path: 'id', reason }]);
  }
});

test('a 10 MB message fails against the 1 MiB default and passes a larger limit', async () => {
  const big = encodeEnvelope({ ...sdkEnvelope, message: 'a'.repeat(10 * 1024 * 1024) });
  const failure = await decodeFailure(big);
  assert.equal(failure.reason, 'invalid envelope: message is 10485760 bytes; the limit is 1048576');
  assert.equal((await decodeEnvelope(big, { maxMessageBytes: 16 * 1024 * 1024 })).ok, true);
  // The limit counts UTF-8 bytes, not characters: 400 000 × '€' is 1.2 MB.
  assert.match((await decodeFailure(encodeEnvelope({ ...sdkEnvelope, message: '€'.repeat(400_000) }))).reason, /message is 1200000 bytes/);
  assert.equal((await decodeEnvelope(encodeEnvelope({ ...sdkEnvelope, message: 'é'.repeat(3) }), { maxMessageBytes: 6 })).ok, true);
  assert.match((await decodeFailure(encodeEnvelope({ ...sdkEnvelope, message: 'é'.repeat(4) }), { maxMessageBytes: 6 })).reason, /message is 8 bytes; the limit is 6/);
});

test('schema-registry framing: too short for a schema id, or no registry to ask', async () => {
  for (const bytes of [[0x00], [0x00, 0x00, 0x00, 0x01]]) {
    const failure = await decodeFailure(Buffer.from(bytes));
    assert.equal(failure.reason, `starts with 0x00, the schema-registry framing, but is ${bytes.length} byte(s): too short to hold a schema id`);
  }
  const framed = Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07]), Buffer.from('payload')]);
  const failure = await decodeFailure(framed);
  assert.equal(failure.reason, 'schema-registry framed (schema id 7) but no schema registry is configured');
  assert.equal(failure.schemaId, 7);
  assert.equal(failure.retriable, undefined);
  assert.match((await decodeFailure(Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0x01]))).reason, /schema id -1, which no registry assigns/);
});

test('no value, an empty value, and invalid options', async () => {
  assert.equal((await decodeFailure(null as unknown as Buffer)).reason, 'the record has no value (null)');
  assert.equal((await decodeFailure(Buffer.alloc(0))).reason, 'the record value is empty');
  assert.throws(() => decodeEnvelope(Buffer.from('{}'), { maxMessageBytes: 0 }), TypeError);
  assert.throws(() => decodeEnvelope(Buffer.from('{}'), { maxMessageBytes: 1.5 }), TypeError);
});

test('decoding never throws or rejects, whatever the bytes', async () => {
  const valid = encodeEnvelope(fileEnvelope);
  for (let i = 0; i < 3000; i++) {
    let bytes: Buffer;
    if (i % 3 === 0) bytes = randomBytes(i % 64);
    else if (i % 3 === 1) {
      bytes = Buffer.from(valid);
      for (let k = 0; k < 1 + (i % 4); k++) bytes[(i * 7919 + k * 104729) % bytes.length] = randomBytes(1)[0] as number;
    } else bytes = valid.subarray(0, i % valid.length);
    const result = await decodeEnvelope(bytes);
    if (!result.ok) {
      assert.equal(result.class, 'decode');
      assert.ok(result.reason.length > 0);
    }
  }
});

test('file ids are deterministic, unambiguous and valid Elasticsearch ids', () => {
  const id = fileEnvelopeId('node-a', '2049:1234567:1716000000', 4096);
  assert.equal(fileEnvelopeId('node-a', '2049:1234567:1716000000', 4096), id);
  assert.match(id, /^f2-[A-Za-z0-9_-]{16}[0-9a-z]+$/);
  assert.equal(id, `${fileEnvelopeIdPrefix('node-a', '2049:1234567:1716000000')}${(4096).toString(36)}`, 'the file’s prefix, then the offset in base 36');
  // Pinned: a forwarder upgrade that wrote other ids would store every re-read line twice.
  assert.equal(id, 'f2-UtwjVzxna2YicuWe35s');
  const others = [
    fileEnvelopeId('node-b', '2049:1234567:1716000000', 4096),
    fileEnvelopeId('node-a', '2049:1234568:1716000000', 4096),
    fileEnvelopeId('node-a', '2049:1234567:1716000000', 4097),
  ];
  assert.equal(new Set([id, ...others]).size, 4);
  // A separator in the inputs can't make two triples meet.
  assert.notEqual(fileEnvelopeId('a:b', 'c', 0), fileEnvelopeId('a', 'b:c', 0));
  // The prefix has a fixed length, so a prefix and an offset never read as another pair.
  assert.equal(fileEnvelopeIdPrefix('n'.repeat(253), `/var/log/pods/${'p'.repeat(400)}`).length, 19);
  // Long inputs still give a short id.
  assert.equal(fileEnvelopeId('n'.repeat(253), `/var/log/pods/${'p'.repeat(400)}`, Number.MAX_SAFE_INTEGER).length, 30);
  assert.throws(() => fileEnvelopeId('', 'x', 0), TypeError);
  assert.throws(() => fileEnvelopeId('n', '', 0), TypeError);
  assert.throws(() => fileEnvelopeId('n', 'x', -1), RangeError);
  assert.throws(() => fileEnvelopeId('n', 'x', 1.5), RangeError);
});

test('one file’s ids made with fileEnvelopeIds are fileEnvelopeId’s', () => {
  for (const [node, identity] of [['node-a', '2049:1234567:0123456789abcdef:0'], ['n"ö\\de', 'x:"y"'], ['n'.repeat(253), `/var/log/pods/${'p'.repeat(400)}`]] as const) {
    const ids = fileEnvelopeIds(node, identity);
    for (const offset of [0, 1, 381, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) assert.equal(ids(offset), fileEnvelopeId(node, identity, offset));
    assert.throws(() => ids(-1), RangeError);
    assert.throws(() => ids(0.5), RangeError);
  }
  assert.throws(() => fileEnvelopeIds('', 'x'), TypeError);
});

test('SDK ids are UUID v7: unique and ordered by millisecond', () => {
  const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const ids = Array.from({ length: 10_000 }, () => newSdkEnvelopeId());
  for (const id of ids.slice(0, 100)) assert.match(id, v7);
  assert.equal(new Set(ids).size, ids.length);
  const at = Date.parse('2026-11-25T10:00:00Z');
  assert.ok(newSdkEnvelopeId(at) < newSdkEnvelopeId(at + 1));
  assert.equal(newSdkEnvelopeId(at).slice(0, 13).replace('-', ''), at.toString(16).padStart(12, '0'));
});

test('the Avro schema has exactly the envelope fields', () => {
  assert.deepEqual(ENVELOPE_AVRO_SCHEMA.fields.map((f) => f.name), Object.keys(plain(fileEnvelope)));
  const source = ENVELOPE_AVRO_SCHEMA.fields.find((f) => f.name === 'source');
  assert.ok(source && typeof source.type === 'object' && 'fields' in source.type);
  assert.deepEqual(source.type.fields.map((f) => f.name), ['kind', ...Object.keys(fileEnvelope.source).slice(1), ...Object.keys(sdkEnvelope.source).slice(1)]);
});

test('performance sanity: a typical record decodes in microseconds (reported, not asserted)', async (t) => {
  const records = Array.from({ length: 1000 }, (_, i) =>
    encodeEnvelope({ ...fileEnvelope, id: fileEnvelopeId('node-a', '2049:1234567:1716000000', i * 200), source: { ...fileEnvelope.source, offset: i * 200 } as Envelope['source'] }),
  );
  const rounds = 100;
  const started = process.hrtime.bigint();
  let ok = 0;
  for (let r = 0; r < rounds; r++) for (const bytes of records) if ((await decodeEnvelope(bytes)).ok) ok++;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  assert.equal(ok, rounds * records.length);
  t.diagnostic(`decoded ${ok} records of ${records[0]?.length} bytes in ${seconds.toFixed(2)} s: ${Math.round(ok / seconds).toLocaleString('en')} records/s`);
});
