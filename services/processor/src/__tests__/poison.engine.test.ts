/**
 * Poison: bad UTF-8, truncated JSON, a 10 MB message and a mapping conflict (the same field
 * first an object, then a string) become dead letters of their tenant; the processor stays
 * up and the other tenants keep flowing. Against the real Kafka and Elasticsearch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { IHeaders, ITopicConfig, Kafka, Producer } from 'kafkajs';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope, type Envelope } from '@tributary/envelope';
import { createKafka, DEAD_LETTER_HEADERS, ensureTopics, platformTopics, PIPELINES_TOPIC, readDeadLetter, tenantTopics, type DeadLetterCause } from '@tributary/kafka';
import { pipelineRecord, type LoggingPipeline } from '@tributary/pipeline';
import { testEngines, uniqueName } from '@tributary/testkit';
import { Processor } from '../index.js';

const engines = testEngines();
const logger = pino({ level: 'silent' });
const poisoned = uniqueName('poisoned');
const healthy = uniqueName('healthy');
const es = createElasticsearch({ url: engines.elasticsearchUrl });
/** Room for the 10 MB record and its dead letter (the broker's default is about 1 MiB). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const TEN_MB = 10 * 1024 * 1024;
const HEALTHY_PHASES = [200, 150, 150] as const;
const HEALTHY_TOTAL = HEALTHY_PHASES.reduce((a, b) => a + b, 0);

const manifest: LoggingPipeline = {
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'LoggingPipeline',
  metadata: { name: 'conflict', namespace: poisoned },
  spec: {
    parse: [{ json: { field: 'message' } }],
    output: { elasticsearch: { index: 'conflict' } },
  },
};

let kafka: Kafka;
let producer: Producer;
let processor: Processor;

function envelope(tenant: string, id: string, message: string): Envelope {
  return {
    id,
    time: '2026-11-25T10:00:00.000000001Z',
    stream: 'stdout',
    message,
    source: { kind: 'file', node: 'node-a', path: `/var/log/pods/${tenant}/app/0.log`, offset: 0 },
    kubernetes: { namespace: tenant, pod: 'app-1', pod_uid: 'uid-1', container: 'app', labels: { app: 'app' } },
  };
}

/** One record, sent alone, and the offset it got. */
async function send(topic: string, key: string, value: Buffer, headers?: IHeaders): Promise<string> {
  const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value, ...(headers ? { headers } : {}) }] });
  assert.ok(meta?.baseOffset !== undefined, `no offset for ${key}`);
  return meta.baseOffset;
}

async function sendHealthy(from: number, count: number): Promise<void> {
  const messages = Array.from({ length: count }, (_, i) => ({
    key: `uid-1/app-${(from + i) % 7}`,
    value: encodeEnvelope(envelope(healthy, `healthy-${from + i}`, `healthy line ${from + i}`)),
  }));
  await producer.send({ topic: `logs.${healthy}`, acks: -1, messages });
}

async function eventually<T>(what: () => string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function count(index: string): Promise<number> {
  await es.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  return (await es.count({ index, ignore_unavailable: true, allow_no_indices: true })).count;
}

/** Wildcard deletes are refused by default (action.destructive_requires_name): delete by name. */
async function deleteIndices(...patterns: string[]): Promise<void> {
  const found = await es.indices.get({ index: patterns, ignore_unavailable: true, allow_no_indices: true }).catch(() => ({}));
  const names = Object.keys(found);
  if (names.length > 0) await es.indices.delete({ index: names }).catch(() => undefined);
}

interface Letter {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
  readonly cause: DeadLetterCause | undefined;
}

/**
 * Reads `topic` from the beginning until it holds a dead letter for each of `offsets`
 * (source offsets). Delivery is at least once, so a dead letter may come twice: keyed by source offset.
 */
async function deadLetters(topic: string, offsets: readonly string[], timeoutMs = 30_000): Promise<Map<string, Letter[]>> {
  const consumer = kafka.consumer({ groupId: uniqueName('poison-dlq-reader') });
  const byOffset = new Map<string, Letter[]>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = message.headers ?? {};
        const cause = readDeadLetter(headers);
        const at = cause?.offset ?? `unreadable@${message.offset}`;
        byOffset.set(at, [...(byOffset.get(at) ?? []), { key: message.key, value: message.value, headers, cause }]);
      },
    });
    await eventually(
      () => `dead letters in ${topic} for source offsets ${offsets.join(', ')}; have ${[...byOffset.keys()].join(', ') || 'none'}`,
      async () => (offsets.every((o) => byOffset.has(o)) ? true : undefined),
      timeoutMs,
    );
  } finally {
    await consumer.disconnect();
  }
  return byOffset;
}

function header(letter: Letter, name: string): string | undefined {
  const value = letter.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : String(first);
}

before(async () => {
  kafka = createKafka({ brokers: engines.brokers, clientId: 'poison-test' }, logger);
  const admin = kafka.admin();
  await admin.connect();
  // Both of the poisoned tenant's topics take 10 MB records: its logs topic, to receive one,
  // and its dead-letter topic, or the processor could never write that record's dead letter.
  const raised: ITopicConfig[] = tenantTopics(poisoned, { partitions: 1 }).map((t) => ({
    ...t,
    configEntries: [...(t.configEntries ?? []), { name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }],
  }));
  await ensureTopics(admin, [...platformTopics(), ...raised, ...tenantTopics(healthy, { partitions: 2 })]);
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [`logs.${poisoned}`, `dlq.${poisoned}`].map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['max.message.bytes'] })),
  });
  for (const resource of configs.resources) {
    assert.equal(resource.configEntries[0]?.configValue, String(MAX_MESSAGE_BYTES), `${resource.resourceName}: max.message.bytes`);
  }
  await admin.disconnect();

  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // Published before the processor starts: in force from the poisoned tenant's first record.
  await producer.send({ topic: PIPELINES_TOPIC, acks: -1, messages: [pipelineRecord(manifest, 1, new Date().toISOString())] });

  processor = new Processor({
    brokers: engines.brokers,
    elasticsearchUrl: engines.elasticsearchUrl,
    schemaRegistryUrl: engines.schemaRegistryUrl,
    groupId: uniqueName('poison-processor'),
    topicRefreshMs: 1000,
    backoff: { initialMs: 50, maxMs: 1000 },
    logger,
  });
  await processor.start();
  assert.equal(processor.pipelines.get(poisoned, 'conflict')?.version, 1, 'the conflict pipeline is in force once start() resolves');
});

after(async () => {
  await processor?.stop();
  await producer?.disconnect();
  await deleteIndices(`logs.${poisoned}.*`, `logs.${healthy}.*`);
  await es.close();
});

test('poison records become dead letters; the processor stays up and the other tenant keeps flowing', async () => {
  const logs = `logs.${poisoned}`;
  const conflictIndex = `logs.${poisoned}.conflict`;
  const healthyIndex = `logs.${healthy}.default`;

  // Healthy records before the poison…
  await sendHealthy(0, HEALTHY_PHASES[0]);

  const badUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
  const whole = encodeEnvelope(envelope(poisoned, 'p-truncated', '{"x":{"a":1}}'));
  const truncated = whole.subarray(0, Math.floor(whole.length / 2));
  const huge = encodeEnvelope(envelope(poisoned, 'p-huge', 'y'.repeat(TEN_MB)));
  assert.ok(huge.length > TEN_MB);
  const asObject = encodeEnvelope(envelope(poisoned, 'p-object', '{"x":{"a":1}}'));
  const asString = encodeEnvelope(envelope(poisoned, 'p-string', '{"x":"oops"}'));

  const sent = {
    badUtf8: { key: 'poison/bad-utf8', value: badUtf8, offset: await send(logs, 'poison/bad-utf8', badUtf8, { 'x-trace': 'keep-me' }) },
    truncated: { key: 'poison/truncated', value: truncated, offset: await send(logs, 'poison/truncated', truncated) },
    huge: { key: 'poison/huge', value: huge, offset: await send(logs, 'poison/huge', huge) },
  };
  await send(logs, 'poison/object', asObject);

  // …between…
  await sendHealthy(HEALTHY_PHASES[0], HEALTHY_PHASES[1]);

  // The object form of `x` must be in the index (and its mapping) before the string form comes.
  await eventually(() => `the document with x as an object in ${conflictIndex}`, async () => ((await count(conflictIndex)) === 1 ? true : undefined));
  const conflicting = { key: 'poison/string', value: asString, offset: await send(logs, 'poison/string', asString) };

  // …and after.
  await sendHealthy(HEALTHY_PHASES[0] + HEALTHY_PHASES[1], HEALTHY_PHASES[2]);

  // Every healthy record arrives, exactly once.
  let seen = -1;
  await eventually(
    () => `${HEALTHY_TOTAL} documents in ${healthyIndex}; last count ${seen}`,
    async () => {
      seen = await count(healthyIndex);
      return seen >= HEALTHY_TOTAL ? true : undefined;
    },
  );
  assert.equal(await count(healthyIndex), HEALTHY_TOTAL, 'every healthy record stored once');

  // Every poison record is a dead letter: its key and value byte for byte, and why and where.
  const expected = [
    { name: 'bad UTF-8', ...sent.badUtf8, class: 'decode', reason: /UTF-8/ },
    { name: 'truncated JSON', ...sent.truncated, class: 'decode', reason: /JSON/ },
    // The envelope's message is limited to 1 MiB at decode (ENVELOPE_LIMITS.defaultMaxMessageBytes),
    // so a 10 MB message never reaches the pipeline's 1 MiB output budget: class decode, not budget.
    { name: '10 MB message', ...sent.huge, class: 'decode', reason: new RegExp(`^invalid envelope: message is ${TEN_MB} bytes; the limit is ${1024 * 1024}$`) },
    { name: 'mapping conflict', ...conflicting, class: 'mapping', reason: /\[x\]/ },
  ];
  const letters = await deadLetters(`dlq.${poisoned}`, expected.map((e) => e.offset));
  const unexpected = [...letters.keys()].filter((offset) => !expected.some((e) => e.offset === offset));
  assert.deepEqual(unexpected, [], 'no dead letter for any other record (the object one was indexed)');

  for (const want of expected) {
    const copies = letters.get(want.offset) ?? [];
    for (const letter of copies) {
      const cause = letter.cause;
      assert.ok(cause, `${want.name}: the tributary.* headers are readable`);
      assert.equal(cause.class, want.class, `${want.name}: class (message: ${cause.message})`);
      assert.match(cause.message, want.reason, `${want.name}: ${DEAD_LETTER_HEADERS.message}`);
      assert.equal(cause.topic, logs, `${want.name}: source topic`);
      assert.equal(cause.partition, 0, `${want.name}: source partition`);
      assert.equal(cause.offset, want.offset, `${want.name}: source offset`);
      assert.ok(!Number.isNaN(Date.parse(cause.firstFailure)), `${want.name}: ${DEAD_LETTER_HEADERS.firstFailure} is a time`);
      assert.equal(letter.key?.toString(), want.key, `${want.name}: the original key`);
      assert.ok(letter.value !== null && want.value.equals(letter.value), `${want.name}: the original value byte for byte (${letter.value?.length} bytes, sent ${want.value.length})`);
    }
  }
  assert.equal(header((letters.get(sent.badUtf8.offset) ?? [])[0] as Letter, 'x-trace'), 'keep-me', 'the original headers are kept');
  const mapping = (letters.get(conflicting.offset) ?? [])[0]?.cause;
  assert.equal(mapping?.pipeline, 'conflict', 'the mapping dead letter names the pipeline in force');
  assert.equal(mapping?.version, 1);
  for (const want of expected.filter((e) => e.class === 'decode')) {
    assert.equal((letters.get(want.offset) ?? [])[0]?.cause?.pipeline, undefined, `${want.name}: no pipeline ran`);
  }

  // Only the object form was indexed for the poisoned tenant.
  assert.equal(await count(`logs.${poisoned}.*`), 1, 'the poisoned tenant has exactly its one good document');
  const doc = await es.get<{ x: unknown }>({ index: conflictIndex, id: 'p-object' });
  assert.deepEqual(doc._source?.x, { a: 1 });

  // Still up and ready.
  assert.deepEqual(processor.readiness(), { ready: true });
});
