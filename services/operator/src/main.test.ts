import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { operatorOptions } from './main.js';

const logger = pino({ level: 'silent' });
const env = { KAFKA_BROKERS: 'kafka:9092', ELASTICSEARCH_URL: 'http://es:9200' };

test('the options from the environment and the flags, with their defaults', () => {
  const options = operatorOptions({ ...env, KUBECONFIG: '/k/config', TRIBUTARY_TOPIC_PARTITIONS: '6' }, { namespaces: 'payments, search', resyncSeconds: '60' }, logger);
  assert.deepEqual(options.brokers, ['kafka:9092']);
  assert.equal(options.kubeconfig, '/k/config');
  assert.deepEqual(options.namespaces, ['payments', 'search']);
  assert.equal(options.topics.partitions, 6);
  assert.equal(options.resyncMs, 60_000);
  assert.equal(options.metricsPort, 9096);
  assert.equal(operatorOptions(env, {}, logger).namespaces, undefined, 'all namespaces');
});

test('a bad flag or variable is an error that names it', () => {
  assert.throws(() => operatorOptions({ KAFKA_BROKERS: 'kafka:9092' }, {}, logger), /ELASTICSEARCH_URL is not set/);
  assert.throws(() => operatorOptions(env, { namespaces: 'Payments' }, logger), /--namespaces/);
  assert.throws(() => operatorOptions(env, { metricsPort: '70000' }, logger), /--metrics-port/);
  assert.throws(() => operatorOptions(env, { resyncSeconds: '0' }, logger), /--resync-seconds/);
  assert.throws(() => operatorOptions({ ...env, TRIBUTARY_TOPIC_PARTITIONS: 'many' }, {}, logger), /TRIBUTARY_TOPIC_PARTITIONS/);
});
