/**
 * The producer contract for apps in other languages (docs/producing.md), checked with the
 * Python example (examples/python/produce.py, the standard confluent_kafka client) against the
 * real broker: what it writes to `logs.<tenant>` must be what the TypeScript SDK writes,
 * byte for byte where the contract fixes the bytes, and valid to the processor's decoder.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import kafkajs, { type IHeaders } from 'kafkajs';
import { pino } from 'pino';
import { decodeEnvelope, encodeEnvelope, newSdkEnvelopeId, type Envelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';

const { CompressionCodecs, CompressionTypes, Partitioners } = kafkajs;

const PYTHON = '/usr/bin/python3';
const EXAMPLE_DIR = join(import.meta.dirname, '..', 'examples', 'python');
const SCRIPT = join(EXAMPLE_DIR, 'produce.py');
// -B and this: importing the example must not leave __pycache__ in the repository.
const PYTHON_ENV = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: EXAMPLE_DIR };
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RFC3339_NANOS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

/** Why the example can't run here, or undefined. Checked once. */
const pythonProblem = ((): string | undefined => {
  const probe = spawnSync(PYTHON, ['-B', '-c', 'import confluent_kafka'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not found (${probe.error.message}): install python3 and python3-confluent-kafka (apt-get install python3-confluent-kafka)`;
  if (probe.status !== 0) return `${PYTHON} can't import confluent_kafka: install it (apt-get install python3-confluent-kafka)`;
  return undefined;
})();

/** CI installs the client (.ci/run), so there a missing client fails; elsewhere the test is skipped. */
function needsPython(t: TestContext): boolean {
  if (pythonProblem === undefined) return true;
  if (process.env['CI']) assert.fail(pythonProblem);
  t.skip(pythonProblem);
  return false;
}

interface Run {
  readonly code: number | null;
  readonly stderr: string;
}

function python(args: readonly string[], stdin: Buffer | string = ''): Promise<Run & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-B', ...args], { env: PYTHON_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The id the example derives with --input-id, computed here as docs/producing.md describes it. */
function inputLineId(app: string, inputId: string, lineNumber: number): string {
  return `i1-${createHash('sha256').update(JSON.stringify([app, inputId, lineNumber])).digest('base64url').slice(0, 22)}`;
}

test('the example uses the contract producer settings, UUID v7 ids like newSdkEnvelopeId, and derived ids any language can reproduce', { timeout: 30_000 }, async (t) => {
  if (!needsPython(t)) return;
  const at = Date.parse('2026-11-25T10:00:00.123Z');
  const derived: Array<[string, string, number]> = [
    ['billing', 'import-2026-11-25', 1],
    ['billing', 'import-2026-11-25', 2],
    ['billing', 'import-2026-11-26', 1],
    ['abrechnung-ü', 'nächtlich "import" \\ 日本語 🚀 \t', 42],
    ['a:b', 'c', 1],
    ['a', 'b:c', 1],
  ];
  const program = `
import json, sys, produce
asked = json.load(sys.stdin)
print(json.dumps({
    "config": produce.producer_config("kafka-1:9092,kafka-2:9092", "billing", 30),
    "uuid7": [produce.uuid7(asked["at"]) for _ in range(200)],
    "ids": [produce.input_line_id(app, input_id, n) for app, input_id, n in asked["derived"]],
    "time": produce.rfc3339_now(),
}))`;
  const before = Date.now();
  const run = await python(['-c', program], JSON.stringify({ at, derived }));
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { config: Record<string, unknown>; uuid7: string[]; ids: string[]; time: string };

  assert.deepEqual(out.config, {
    'bootstrap.servers': 'kafka-1:9092,kafka-2:9092',
    'client.id': 'tributary-producer-billing',
    acks: 'all',
    'enable.idempotence': true,
    'compression.type': 'lz4',
    partitioner: 'murmur2_random',
    'linger.ms': 50,
    'message.timeout.ms': 30_000,
  });

  for (const id of out.uuid7) assert.match(id, UUID_V7);
  assert.equal(new Set(out.uuid7).size, out.uuid7.length, 'random bits differ');
  // The same 48-bit millisecond prefix the TypeScript SDK's ids carry.
  assert.equal(out.uuid7[0]?.slice(0, 13), newSdkEnvelopeId(at).slice(0, 13));

  assert.deepEqual(out.ids, derived.map(([app, inputId, n]) => inputLineId(app, inputId, n)), 'Python and JavaScript derive the same ids');
  assert.equal(new Set(out.ids).size, derived.length, 'no two inputs share an id (separators included)');
  for (const id of out.ids) assert.match(id, /^i1-[A-Za-z0-9_-]{22}$/);

  assert.match(out.time, RFC3339_NANOS_UTC);
  const ms = Date.parse(`${out.time.slice(0, 23)}Z`);
  assert.ok(ms >= before - 1000 && ms <= Date.now() + 1000, `${out.time} is now`);
});

test('produce.py writes envelopes the processor decodes, keyed and partitioned like the TypeScript SDK, LZ4, with ids stable across re-runs', { timeout: 120_000 }, async (t) => {
  if (!needsPython(t)) return;
  const engines = testEngines();
  const tenant = uniqueName('py-producer');
  const topic = `logs.${tenant}`;
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'python-producer-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant));
  const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
  await admin.disconnect();
  assert.equal(partitions.length, 3);

  // Count LZ4 batches as the consumer decompresses them (the codec @tributary/kafka registered).
  let lz4Batches = 0;
  const lz4 = CompressionCodecs[CompressionTypes.LZ4];
  CompressionCodecs[CompressionTypes.LZ4] = () => {
    const codec = lz4() as { compress: unknown; decompress: (buffer: Buffer) => Promise<Buffer> };
    return { compress: codec.compress, decompress: (buffer: Buffer) => (lz4Batches++, codec.decompress(buffer)) };
  };
  t.after(() => void (CompressionCodecs[CompressionTypes.LZ4] = lz4));

  // stdin: the line numbers are those of the input, blank line 4 included (and skipped).
  const stdin = Buffer.concat([
    Buffer.from('{"level":"info","msg":"invoice paid"}\n'),
    Buffer.from('zahlung fehlgeschlagen: ümlaut, 日本語, 🚀\n'),
    Buffer.from('quotes " and a backslash \\ and a tab\tand U+2028 \u2028 end\n'),
    Buffer.from('\n'),
    Buffer.from('a CRLF line\r\n'),
    Buffer.concat([Buffer.from('not UTF-8: '), Buffer.from([0xff, 0xfe]), Buffer.from(' end')]), // no final newline
  ]);
  const expected: Array<[number, string]> = [
    [1, '{"level":"info","msg":"invoice paid"}'],
    [2, 'zahlung fehlgeschlagen: ümlaut, 日本語, 🚀'],
    [3, 'quotes " and a backslash \\ and a tab\tand U+2028 \u2028 end'],
    [5, 'a CRLF line'],
    [6, 'not UTF-8: \\xff\\xfe end'],
  ];
  const app = 'billing';
  const inputId = 'nightly-import-2026-11-25-ü';
  const batch = ['--brokers', engines.brokers.join(','), '--tenant', tenant, '--app', app, '--host', 'vm-7', '--input-id', inputId];
  const argsLines = ['first from argv', 'second from argv', 'third from argv'];

  const started = Date.now();
  const runs: Run[] = [
    await python([SCRIPT, ...batch], stdin),
    await python([SCRIPT, ...batch], stdin), // the same input again
    await python([SCRIPT, '--brokers', engines.brokers.join(','), '--tenant', tenant, '--app', app, '--host', 'vm-8', '--stream', 'stderr', ...argsLines]),
  ];
  const ended = Date.now();
  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`record\\(s\\) acknowledged by ${topic.replace(/\./g, '\\.')}`));
  }

  // Everything in the topic, in offset order per partition.
  const total = expected.length * 2 + argsLines.length;
  const records: Array<{ partition: number; offset: number; key: string | undefined; value: Buffer; headers: IHeaders | undefined }> = [];
  const consumer = kafka.consumer({ groupId: uniqueName('python-producer-reader') });
  await consumer.connect();
  t.after(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${records.length} of ${total} records after 60 s`)), 60_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({ partition, offset: Number(message.offset), key: message.key?.toString('utf8'), value: message.value as Buffer, headers: message.headers });
        if (records.length === total) {
          clearTimeout(deadline);
          setTimeout(resolve, 1000); // a little longer: one record too many would show
        }
      },
    });
  });
  assert.equal(records.length, total, 'one record per non-blank line and run');
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  assert.ok(lz4Batches > 0, 'the batches were LZ4-compressed');

  const decoded: Envelope[] = [];
  for (const record of records) {
    const result = await decodeEnvelope(record.value);
    assert.ok(result.ok, `decodes: ${result.ok ? '' : result.reason}`);
    assert.equal(result.framing, 'json');
    // The bytes the TypeScript SDK's encodeEnvelope writes for the same envelope: fields, order, escaping.
    assert.equal(record.value.toString('utf8'), encodeEnvelope(result.envelope).toString('utf8'));
    assert.deepEqual(Object.keys(record.headers ?? {}), [], 'no headers');
    assert.equal(result.envelope.kubernetes, undefined);
    assert.equal(result.envelope.source.kind, 'sdk');
    if (result.envelope.source.kind !== 'sdk') continue;
    assert.equal(result.envelope.source.app, app);
    // Key = <app>/<host>, on the partition kafkajs's default (Java-compatible) partitioner, hence the TypeScript SDK, picks.
    assert.equal(record.key, `${app}/${result.envelope.source.host}`);
    const partitionMetadata = partitions.map((p) => ({ ...p, leader: Math.max(p.leader, 0) }));
    assert.equal(record.partition, Partitioners.DefaultPartitioner()({ topic, partitionMetadata, message: { key: record.key ?? null, value: null } }), `partition of ${record.key}`);
    assert.match(result.envelope.time, RFC3339_NANOS_UTC);
    const ms = Date.parse(`${result.envelope.time.slice(0, 23)}Z`);
    assert.ok(ms >= started - 1000 && ms <= ended + 1000, `${result.envelope.time} within the runs`);
    decoded.push(result.envelope);
  }

  // The two runs of the same input: each line in input order, the same ids both times, derived from the line numbers.
  const batchRecords = decoded.filter((e) => e.source.kind === 'sdk' && e.source.host === 'vm-7');
  const wantedIds = expected.map(([n]) => inputLineId(app, inputId, n));
  assert.deepEqual(batchRecords.map((e) => e.message), [...expected, ...expected].map(([, message]) => message), 'every line twice, in order');
  assert.deepEqual(batchRecords.map((e) => e.id), [...wantedIds, ...wantedIds], 'a re-run gives each line the id it had');
  assert.ok(batchRecords.every((e) => e.stream === 'stdout'));

  // Without --input-id: a fresh UUID v7 per line, as the TypeScript SDK makes them.
  const argvRecords = decoded.filter((e) => e.source.kind === 'sdk' && e.source.host === 'vm-8');
  assert.deepEqual(argvRecords.map((e) => e.message), argsLines);
  assert.ok(argvRecords.every((e) => e.stream === 'stderr'));
  assert.equal(new Set(argvRecords.map((e) => e.id)).size, argsLines.length);
  for (const { id } of argvRecords) {
    assert.match(id, UUID_V7);
    const ms = parseInt(id.slice(0, 13).replace('-', ''), 16);
    assert.ok(ms >= started - 1000 && ms <= ended + 1000, `${id}: its time is the run's`);
  }
  t.diagnostic(`${records.length} records on partitions ${[...new Set(records.map((r) => r.partition))].join(', ')}, ${lz4Batches} LZ4 batches decompressed`);
});

test('produce.py exits non-zero, saying why, for a tenant without topics and for a name that is not a tenant', { timeout: 60_000 }, async (t) => {
  if (!needsPython(t)) return;
  const engines = testEngines();
  const tenant = uniqueName('py-no-topic');
  const missing = await python([SCRIPT, '--brokers', engines.brokers.join(','), '--tenant', tenant, '--app', 'billing', '--timeout', '2', 'never stored']);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, new RegExp(`logs\\.${tenant} does not exist`));
  assert.match(missing.stderr, /not acknowledged: Local: Message timed out/);

  const invalid = await python([SCRIPT, '--brokers', engines.brokers.join(','), '--tenant', 'Payments_EU', '--app', 'billing', 'x']);
  assert.equal(invalid.code, 2, invalid.stderr);
  assert.match(invalid.stderr, /--tenant 'Payments_EU' is not a Kubernetes namespace name/);
});
