import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { decodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';
import { randomBytes } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createProducer, ProducerOverflowError, ProducerRecordError, ProducerRecordTooLargeError } from '../index.js';

const engines = testEngines();
const logger = pino({ level: 'silent' });

/** A new tenant whose topics exist, and a client to read them. */
async function tenantWithTopics(prefix: string, partitions: number): Promise<{ tenant: string; kafka: ReturnType<typeof createKafka> }> {
  const tenant = uniqueName(prefix);
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'sdk-test' }, logger);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions }));
  await admin.disconnect();
  return { tenant, kafka };
}

test('records reach logs.<tenant> as sdk envelopes, in order, each with its own id', async () => {
  const { tenant, kafka } = await tenantWithTopics('sdk', 2);
  const producer = createProducer({ brokers: engines.brokers, tenant, app: 'billing', host: 'vm-7', logger });
  for (let i = 0; i < 1000; i++) await producer.send({ message: `invoice ${i} paid`, stream: i % 10 === 0 ? 'stderr' : 'stdout', time: new Date(Date.UTC(2026, 10, 25, 10, 0, 0, i)) });
  await producer.flush();
  assert.equal(producer.buffered, 0);
  await producer.close();

  const consumer = kafka.consumer({ groupId: uniqueName('sdk-reader') });
  await consumer.connect();
  await consumer.subscribe({ topics: [`logs.${tenant}`], fromBeginning: true });
  const got: Array<{ key: string; message: string; id: string; source: unknown; stream: string; time: string }> = [];
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`${got.length} of 1000 records`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = await decodeEnvelope(message.value as Buffer);
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
        const { id, message: text, source, stream, time } = decoded.envelope;
        got.push({ key: String(message.key), message: text, id, source, stream, time });
        if (got.length === 1000) {
          clearTimeout(timeout);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.deepEqual(got.map((r) => r.message), Array.from({ length: 1000 }, (_, i) => `invoice ${i} paid`), 'one app instance is one key: one partition, in order');
  assert.ok(got.every((r) => r.key === 'billing/vm-7'));
  assert.deepEqual(got[0]?.source, { kind: 'sdk', app: 'billing', host: 'vm-7' });
  assert.equal(got[0]?.stream, 'stderr');
  assert.equal(got[1]?.time, '2026-11-25T10:00:00.001Z');
  assert.equal(new Set(got.map((r) => r.id)).size, 1000);
  await assert.rejects(producer.send({ message: 'late' }), /closed/);
});

test('a full buffer is never a silent drop: `error` refuses at once, `block` after its timeout', async () => {
  // Nothing listens on port 1: records stay unacknowledged and fill the buffer.
  const unreachable = ['127.0.0.1:1'];
  const refusing = createProducer({ brokers: unreachable, tenant: 'payments', app: 'a', maxBufferedRecords: 5, overflow: 'error', logger });
  for (let i = 0; i < 5; i++) await refusing.send({ message: `r${i}` });
  await assert.rejects(refusing.send({ message: 'one too many' }), (err: unknown) => err instanceof ProducerOverflowError && /holds 5 records/.test(err.message));
  await assert.rejects(refusing.close(200), /closed with 5 records not acknowledged/);

  const blocking = createProducer({ brokers: unreachable, tenant: 'payments', app: 'b', maxBufferedRecords: 5, overflow: 'block', blockTimeoutMs: 300, logger });
  for (let i = 0; i < 5; i++) await blocking.send({ message: `r${i}` });
  const started = Date.now();
  await assert.rejects(blocking.send({ message: 'waits, then refused' }), ProducerOverflowError);
  assert.ok(Date.now() - started >= 290, 'it waited for room first');
  await assert.rejects(blocking.close(200), /not acknowledged/);
});

test('bad input is refused with a reason', async () => {
  assert.throws(() => createProducer({ brokers: engines.brokers, tenant: 'Not_A_Namespace', app: 'a', logger }), /Not_A_Namespace|tenant/);
  const producer = createProducer({ brokers: engines.brokers, tenant: 'payments', app: 'a', logger });
  await assert.rejects(producer.send({ message: 42 } as unknown as { message: string }), /record.message must be a string/);
  await producer.close(1000);
});

test('records that don’t compress go out in batches under the topic’s limit; one too large for a record is refused at send()', async () => {
  const tenant = uniqueName('sdk-big');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'sdk-test' }, logger);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 1 }));
  const producer = createProducer({ brokers: engines.brokers, tenant, app: 'blobs', logger });
  // 500 × 4 000 random characters: ≈ 2 MB that LZ4 can't shrink, over the 1 MiB a batch may be.
  for (let i = 0; i < 500; i++) await producer.send({ message: `${i} ${randomBytes(3000).toString('base64')}` });
  await assert.rejects(producer.send({ message: 'x'.repeat(1024 * 1024) }), (err: unknown) => err instanceof ProducerRecordTooLargeError && err.limitBytes === 983040);
  await producer.close(30_000);
  const offsets = await admin.fetchTopicOffsets(`logs.${tenant}`);
  await admin.disconnect();
  assert.equal(offsets.reduce((n, o) => n + Number(o.high), 0), 500, 'every record acknowledged, the refused one not taken');
});

test('an app’s own ids are the envelope ids (a re-send after a restart is stored once); a bad one is refused with its field', async () => {
  const { tenant, kafka } = await tenantWithTopics('sdk-id', 1);
  for (let run = 0; run < 2; run++) {
    const producer = createProducer({ brokers: engines.brokers, tenant, app: 'orders', logger });
    await producer.send({ message: 'order 42 shipped', id: 'order-42-shipped' });
    await assert.rejects(producer.send({ message: 'x', id: '' }), (err: unknown) => err instanceof ProducerRecordError && /id: must not be empty/.test(err.message));
    await producer.close();
  }
  const got = await readAll(kafka, `logs.${tenant}`, 2);
  assert.deepEqual(got.map((r) => r.id), ['order-42-shipped', 'order-42-shipped'], 'the same id both times: Elasticsearch stores it once');
});

test('with a schema registry, records are framed (0x00, schema id, Avro) under logs.<tenant>-value and decode like JSON ones', async () => {
  const { tenant, kafka } = await tenantWithTopics('sdk-sr', 1);
  const producer = createProducer({ brokers: engines.brokers, tenant, app: 'billing', host: 'vm-1', schemaRegistry: { url: engines.schemaRegistryUrl }, logger });
  await producer.send({ message: 'framed one', time: '2026-11-25T10:00:00Z' });
  await producer.send({ message: 'framed two', stream: 'stderr' });
  await producer.close();
  const registry = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const schemaId = await registry.getLatestSchemaId(`logs.${tenant}-value`);
  const got = await readAll(kafka, `logs.${tenant}`, 2, registry);
  assert.deepEqual(got.map((r) => [r.message, r.framing, r.schemaId]), [['framed one', 'registry', schemaId], ['framed two', 'registry', schemaId]]);
  assert.deepEqual(got[0]?.source, { kind: 'sdk', app: 'billing', host: 'vm-1' });

  const unreachable = createProducer({ brokers: engines.brokers, tenant, app: 'billing', schemaRegistry: { url: 'http://127.0.0.1:9' }, logger });
  await assert.rejects(unreachable.send({ message: 'lost?' }), /cannot register the envelope schema .* the record was not taken/);
  assert.equal(unreachable.buffered, 0);
  await unreachable.close();
});

/** Every record of `topic`, decoded (through `registry` when given), once `count` are there. */
async function readAll(kafka: ReturnType<typeof createKafka>, topic: string, count: number, registry?: SchemaRegistry): Promise<Array<{ id: string; message: string; source: unknown; framing: string; schemaId: number | undefined }>> {
  const consumer = kafka.consumer({ groupId: uniqueName('sdk-reader') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got: Array<{ id: string; message: string; source: unknown; framing: string; schemaId: number | undefined }> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`${got.length} of ${count} records`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const value = message.value as Buffer;
          const decoded = await decodeEnvelope(value, registry ? { registry } : {});
          assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
          got.push({ id: decoded.envelope.id, message: decoded.envelope.message, source: decoded.envelope.source, framing: decoded.framing, schemaId: value[0] === 0 ? value.readInt32BE(1) : undefined });
          if (got.length >= count) {
            clearTimeout(timeout);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}
