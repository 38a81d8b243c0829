import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { testEngines, uniqueName } from '@tributary/testkit';
import { createKafka, deadLetterMessage, ensureTopics, readDeadLetter, tenantTopics } from '../index.js';
import { tenantNames } from '@tributary/tenant';

test('a dead letter survives Kafka byte for byte, with every header readable', async () => {
  const kafka = createKafka({ brokers: testEngines().brokers, clientId: 'dead-letter-test' }, pino({ level: 'silent' }));
  const tenant = uniqueName('dlq');
  const { deadLetterTopic, logsTopic } = tenantNames(tenant);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 1 }));
  await admin.disconnect();

  const value = Buffer.concat([Buffer.from('{"message":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]); // invalid UTF-8
  const cause = {
    class: 'decode' as const,
    message: 'not valid UTF-8 at byte 15',
    topic: logsTopic,
    partition: 0,
    offset: '7',
    firstFailure: new Date().toISOString(),
  };
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic: deadLetterTopic, acks: -1, messages: [deadLetterMessage({ key: Buffer.from('uid/api'), value }, cause)] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });
  const received = await new Promise<{ key: Buffer | null; value: Buffer | null; headers: unknown }>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => resolve({ key: message.key, value: message.value, headers: message.headers }) });
  });
  await consumer.disconnect();
  assert.deepEqual(received.value, value);
  assert.deepEqual(received.key, Buffer.from('uid/api'));
  assert.deepEqual(readDeadLetter(received.headers as never), { ...cause, pipeline: undefined, version: undefined, rule: undefined });
});
