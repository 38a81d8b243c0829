import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { eventually, testEngines, uniqueName } from '@tributary/testkit';
import { createKafka, TenantTopicWatch } from '../index.js';

const logger = pino({ level: 'silent' });

test('a topic watch lists one kind of tenant topic and reports each change of the list, one at a time', { timeout: 60_000 }, async () => {
  const { brokers } = testEngines();
  const admin = createKafka({ brokers, clientId: 'topic-watch-test' }, logger).admin();
  await admin.connect();
  const [a, b, c, other] = [uniqueName('watch-a'), uniqueName('watch-b'), uniqueName('watch-c'), uniqueName('not-watched')];
  const create = (...topics: string[]) => admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  await create(`dlq.${a}`, `logs.${a}`, `logs.${b}`);
  const changes: string[][] = [];
  const errors: unknown[] = [];
  const watch = new TenantTopicWatch({ admin, kind: 'dlq', tenants: [a, b, c], intervalMs: 200, onChange: async (topics) => void changes.push(topics), onError: (err) => errors.push(err) });
  try {
    assert.deepEqual(await watch.start(), [`dlq.${a}`], 'dead-letter topics only, of these tenants only');
    await create(`dlq.${b}`, `dlq.${other}`);
    await eventually('the new tenant is reported', () => changes.length > 0);
    assert.deepEqual(changes, [[`dlq.${a}`, `dlq.${b}`]]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(changes.length, 1, 'no change, no call');
    watch.reset();
    await eventually('after a reset the list is reported again', () => changes.length === 2);
    await watch.stop();
    await create(`dlq.${c}`);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(changes.length, 2, 'stopped: no more checks');
    assert.deepEqual(errors, []);
  } finally {
    await watch.stop();
    await admin.deleteTopics({ topics: [`dlq.${a}`, `logs.${a}`, `logs.${b}`, `dlq.${b}`, `dlq.${c}`, `dlq.${other}`] }).catch(() => undefined);
    await admin.disconnect();
  }
});
