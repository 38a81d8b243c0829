import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, startEngines, testEngines } from '../index.js';
import { engineAnswers } from '../health.js';

test('existing engines named in the environment are used as they are, and never stopped', async () => {
  const running = testEngines();
  const env = {
    KAFKA_BROKERS: running.brokers.join(','),
    ELASTICSEARCH_URL: `${running.elasticsearchUrl}/`,
    SCHEMA_REGISTRY_URL: running.schemaRegistryUrl,
  };
  const engines = await startEngines({ env });
  assert.deepEqual(engines.engines.map((e) => e.mode), ['external', 'external', 'external']);
  assert.deepEqual(engines.kafka.brokers, running.brokers);
  assert.equal(engines.elasticsearch.url, running.elasticsearchUrl, 'trailing slash dropped');
  assert.deepEqual(engines.env, { ...env, ELASTICSEARCH_URL: running.elasticsearchUrl });
  await engines.stop();
  assert.equal(await engineAnswers('kafka', env.KAFKA_BROKERS), true, 'stop() leaves existing engines alone');
});

test('an existing engine that does not answer fails fast, naming the variable', async () => {
  const started = Date.now();
  await assert.rejects(
    startEngines({ elasticsearch: false, schemaRegistry: false, env: { KAFKA_BROKERS: '127.0.0.1:1' } }),
    (err: unknown) => err instanceof EngineError && err.code === 'TRIBUTARY_ENGINE_UNHEALTHY' && /KAFKA_BROKERS=127\.0\.0\.1:1 does not answer/.test(err.message),
  );
  assert.ok(Date.now() - started < 15_000);
});
