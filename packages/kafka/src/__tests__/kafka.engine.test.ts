import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionTypes, type Admin, type Kafka } from 'kafkajs';
import { pino } from 'pino';
import { testEngines, uniqueName } from '@tributary/testkit';
import { tenantNames } from '@tributary/tenant';
import { createKafka, DEAD_LETTER_HEADROOM_BYTES, ensureTopics, platformTopics, tenantTopics, PIPELINES_TOPIC } from '../index.js';

const logger = pino({ level: 'silent' });
let kafka: Kafka;
let admin: Admin;

before(async () => {
  kafka = createKafka({ brokers: testEngines().brokers, clientId: 'kafka-engine-test' }, logger);
  admin = kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin.disconnect();
});

test("creates a tenant's logs and dead-letter topics once", async () => {
  const tenant = uniqueName('team');
  const topics = tenantTopics(tenant, { partitions: 3, retentionMs: 3_600_000, deadLetterRetentionMs: 7_200_000 });
  assert.deepEqual(await ensureTopics(admin, topics), [`logs.${tenant}`, `dlq.${tenant}`]);
  assert.deepEqual(await ensureTopics(admin, topics), [], 'second call creates nothing');

  const metadata = await admin.fetchTopicMetadata({ topics: [tenantNames(tenant).logsTopic] });
  assert.equal(metadata.topics[0]?.partitions.length, 3);
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [`logs.${tenant}`, `dlq.${tenant}`].map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['retention.ms'] })),
  });
  const retention = Object.fromEntries(configs.resources.map((r) => [r.resourceName, r.configEntries[0]?.configValue]));
  assert.deepEqual(retention, { [`logs.${tenant}`]: '3600000', [`dlq.${tenant}`]: '7200000' }, 'dead letters kept as long as set for them');

  // Whatever got into logs.<tenant> fits into dlq.<tenant> with the dead-letter headers.
  const limits = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [`logs.${tenant}`, `dlq.${tenant}`].map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['max.message.bytes'] })),
  });
  const limit = (name: string): number => Number(limits.resources.find((r) => r.resourceName === name)?.configEntries[0]?.configValue);
  assert.equal(limit(`logs.${tenant}`), 1024 * 1024);
  assert.equal(limit(`dlq.${tenant}`), 1024 * 1024 + DEAD_LETTER_HEADROOM_BYTES);
});

test('platform topics are compacted', async () => {
  await ensureTopics(admin, platformTopics());
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2, name: PIPELINES_TOPIC, configNames: ['cleanup.policy'] }],
  });
  assert.equal(configs.resources[0]?.configEntries[0]?.configValue, 'compact');
});

test('round-trips LZ4-compressed records with keys and headers through a consumer group', async () => {
  const tenant = uniqueName('lz4');
  const { logsTopic } = tenantNames(tenant);
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 1 }));
  const sent = Array.from({ length: 50 }, (_, i) => ({
    key: 'pod-1/api',
    value: JSON.stringify({ message: `line ${i} `.repeat(20) }),
    headers: { 'tributary.seq': String(i) },
  }));
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: uniqueName('group') });
  const received: Array<{ key: string; value: string; seq: string }> = [];
  try {
    await producer.connect();
    await producer.send({ topic: logsTopic, compression: CompressionTypes.LZ4, messages: sent });
    await consumer.connect();
    await consumer.subscribe({ topic: logsTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${sent.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({ key: String(message.key), value: String(message.value), seq: String(message.headers?.['tributary.seq']) });
          if (received.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
  assert.deepEqual(
    received,
    sent.map((m) => ({ key: m.key, value: m.value, seq: m.headers['tributary.seq'] })),
  );
});
