import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { pino } from 'pino';
import { assertLifecycle, testEngines, uniqueName } from '@tributary/testkit';
import { CompactedTopicView, createKafka, ensureTopics } from '../index.js';

const logger = pino({ level: 'silent' });
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

before(async () => {
  kafka = createKafka({ brokers: testEngines().brokers, clientId: 'compacted-view-test' }, logger);
  admin = kafka.admin();
  producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
});
after(async () => {
  await Promise.all([admin.disconnect(), producer.disconnect()]);
});

/** A fresh compacted topic with three partitions, so some keys land on each and some partitions may stay empty. */
async function compactedTopic(): Promise<string> {
  const topic = uniqueName('view');
  await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]);
  return topic;
}

async function send(topic: string, messages: Message[]): Promise<void> {
  await producer.send({ topic, messages });
}

/** A view that records every change it is told about, as text. */
function recordingView(topic: string, onChange?: (key: string, value: Buffer | null) => void) {
  const changes: Array<[string, string | null]> = [];
  const view = new CompactedTopicView({
    kafka,
    topic,
    logger,
    onChange: (key, value) => {
      changes.push([key, value === null ? null : value.toString()]);
      onChange?.(key, value);
    },
  });
  return { view, changes };
}

function asText(entries: ReadonlyMap<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...entries].map(([key, value]) => [key, value.toString()]));
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('start() resolves with the latest value of every key, tombstoned keys gone, and later records follow', async () => {
  const topic = await compactedTopic();
  const keys = Array.from({ length: 12 }, (_, i) => `payments/p${i}`);
  await send(topic, keys.map((key) => ({ key, value: 'v1' })));
  await send(topic, [
    { key: 'payments/p0', value: 'v2' },
    { key: 'payments/p1', value: null },
    { key: 'payments/p2', value: 'v2' },
    { key: 'payments/p2', value: 'v3' },
  ]);
  const expected = Object.fromEntries(keys.filter((k) => k !== 'payments/p1').map((key) => [key, 'v1']));
  expected['payments/p0'] = 'v2';
  expected['payments/p2'] = 'v3';

  const { view, changes } = recordingView(topic);
  try {
    await view.start();
    assert.equal(view.caughtUp, true);
    assert.deepEqual(asText(view.entries()), expected);
    assert.equal(changes.length, keys.length + 4, 'every record, tombstone included, went through onChange');
    assert.ok(changes.some(([key, value]) => key === 'payments/p1' && value === null));

    await send(topic, [
      { key: 'orders/api', value: 'new' },
      { key: 'payments/p3', value: null },
    ]);
    await until('records produced after start arrive', () => changes.length === keys.length + 6);
    delete expected['payments/p3'];
    expected['orders/api'] = 'new';
    assert.deepEqual(asText(view.entries()), expected);

    const { view: restarted } = recordingView(topic);
    try {
      await restarted.start();
      assert.deepEqual(asText(restarted.entries()), expected, 'a restarted reader has the same state');
    } finally {
      await restarted.stop();
    }
  } finally {
    await view.stop();
  }
});

test('an empty topic is caught up at once', async () => {
  const topic = await compactedTopic();
  const { view, changes } = recordingView(topic);
  try {
    await view.start();
    assert.equal(view.caughtUp, true);
    assert.equal(view.entries().size, 0);
    await send(topic, [{ key: 'a/b', value: '1' }]);
    await until('the first record arrives', () => changes.length === 1);
  } finally {
    await view.stop();
  }
});

test('a listener that throws on one value does not stop the view', async () => {
  const topic = await compactedTopic();
  await send(topic, [
    { key: 'a/bad', value: 'poison' },
    { key: 'a/good', value: 'fine' },
  ]);
  const { view, changes } = recordingView(topic, (_key, value) => {
    if (value?.toString() === 'poison') throw new Error('cannot take this value');
  });
  try {
    await view.start();
    assert.deepEqual(asText(view.entries()), { 'a/bad': 'poison', 'a/good': 'fine' });
    await send(topic, [{ key: 'a/later', value: 'also fine' }]);
    await until('later records still arrive', () => changes.length === 3);
  } finally {
    await view.stop();
  }
});

test('keeps the lifecycle contract', async () => {
  const topic = await compactedTopic();
  await send(topic, [{ key: 'a/b', value: '1' }]);
  await assertLifecycle(() => new CompactedTopicView({ kafka, topic, logger, onChange: () => undefined }));
});

test('stop() during start() makes start() reject and leaves nothing running', async () => {
  const topic = await compactedTopic();
  const view = new CompactedTopicView({ kafka, topic, logger, onChange: () => undefined });
  const starting = view.start();
  await view.stop();
  await assert.rejects(starting, /stopped/);
  await assert.rejects(view.start(), /stopped/);
});
