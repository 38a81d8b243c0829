import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka } from '@tributary/kafka';
import { PipelineRegistry } from '@tributary/pipeline';
import { testEngines, uniqueName } from '@tributary/testkit';
import { processBatch, RecordHandler } from '../index.js';

test('with Elasticsearch unreachable a batch waits and retries, and is abandoned uncommitted when the partition goes away', async () => {
  const tenant = uniqueName('outage');
  const kafka = createKafka({ brokers: testEngines().brokers, clientId: 'outage-test' }, pino({ level: 'silent' }));
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const unreachable = createElasticsearch({ url: 'http://127.0.0.1:1', maxRetries: 0, requestTimeout: 500 });
  const value = encodeEnvelope({ id: 'x:1', time: '2026-11-25T10:00:00Z', stream: 'stdout', message: 'hello', source: { kind: 'sdk', app: 'a', host: 'h' } });
  const started = Date.now();
  let heartbeats = 0;
  try {
    const result = await processBatch([{ topic: `logs.${tenant}`, partition: 0, offset: '0', key: null, value }], {
      handler: new RecordHandler({ registry: new PipelineRegistry() }),
      elasticsearch: unreachable,
      producer,
      logger: pino({ level: 'silent' }),
      backoff: { initialMs: 20, maxMs: 100 },
      heartbeat: async () => void heartbeats++,
      active: () => Date.now() - started < 1500,
    });
    assert.equal(result.acknowledged, false, 'nothing may be committed');
    assert.equal(result.indexed, 0);
    assert.ok(result.retries >= 3, `retried ${result.retries} times`);
    assert.ok(heartbeats > 0, 'the member kept its place in the group while waiting');
  } finally {
    await producer.disconnect();
    await unreachable.close();
  }
});
