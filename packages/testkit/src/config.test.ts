import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existingEngine, parseModeSetting } from './config.js';
import { EngineError } from './errors.js';

test('reads existing engines from the environment, trimmed', () => {
  const env = { KAFKA_BROKERS: ' 127.0.0.1:9092,kafka:9093 ', ELASTICSEARCH_URL: 'http://es:9200/', SCHEMA_REGISTRY_URL: '' };
  assert.equal(existingEngine('kafka', env), '127.0.0.1:9092,kafka:9093');
  assert.equal(existingEngine('elasticsearch', env), 'http://es:9200');
  assert.equal(existingEngine('schemaRegistry', env), undefined);
});

test('refuses malformed addresses naming the variable', () => {
  const bad: Array<[Parameters<typeof existingEngine>[0], NodeJS.ProcessEnv, RegExp]> = [
    ['kafka', { KAFKA_BROKERS: 'kafka' }, /KAFKA_BROKERS="kafka": "kafka" is not host:port/],
    ['elasticsearch', { ELASTICSEARCH_URL: 'es:9200:x' }, /ELASTICSEARCH_URL="es:9200:x"/],
    ['schemaRegistry', { SCHEMA_REGISTRY_URL: 'nope' }, /SCHEMA_REGISTRY_URL="nope" is not a URL/],
  ];
  for (const [name, env, message] of bad) {
    assert.throws(() => existingEngine(name, env), (err: unknown) => err instanceof EngineError && err.code === 'TRIBUTARY_ENGINES_CONFIG' && message.test(err.message));
  }
});

test('TRIBUTARY_ENGINES selects the mode', () => {
  assert.equal(parseModeSetting(undefined), 'auto');
  assert.equal(parseModeSetting('local'), 'local');
  assert.equal(parseModeSetting('containers'), 'containers');
  assert.throws(() => parseModeSetting('docker'), /expected auto, local or containers/);
});
