import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { forwarderOptions } from './main.js';

const logger = pino({ level: 'silent' });
const env = { KAFKA_BROKERS: '127.0.0.1:9092', NODE_NAME: 'ip-10-0-0-1' };

test('flags and the environment become options; lists split on commas', () => {
  const options = forwarderOptions(env, { stateDir: '/var/lib/tributary', excludeNamespaces: 'kube-system, istio-system', maxLineBytes: '65536' }, logger);
  assert.equal(options.node, 'ip-10-0-0-1');
  assert.equal(options.root, '/var/log/pods');
  assert.deepEqual(options.filter, { excludeNamespaces: ['kube-system', 'istio-system'] });
  assert.equal(options.maxLineBytes, 65536);
  assert.equal(options.metricsPort, 9091);
  assert.equal(forwarderOptions(env, { stateDir: '/s', node: 'flag-wins' }, logger).node, 'flag-wins');
});

test('what is missing or wrong is named', () => {
  assert.throws(() => forwarderOptions({ KAFKA_BROKERS: 'k:9092' }, { stateDir: '/s' }, logger), /--node: required/);
  assert.throws(() => forwarderOptions(env, {}, logger), /--state-dir: required/);
  assert.throws(() => forwarderOptions(env, { stateDir: '/s', maxLineBytes: 'big' }, logger), /--max-line-bytes "big"/);
  assert.throws(() => forwarderOptions(env, { stateDir: '/s', metricsPort: '99999' }, logger), /--metrics-port "99999"/);
  assert.throws(() => forwarderOptions({ NODE_NAME: 'n' }, { stateDir: '/s' }, logger), /broker/);
  assert.throws(() => forwarderOptions(env, { stateDir: '/s', spoolMaxBytes: '1mb' }, logger), /--spool-max-bytes "1mb": expected a whole number/);
  assert.throws(() => forwarderOptions(env, { stateDir: '/s', spoolMaxBytes: '1024' }, logger), /--spool-max-bytes "1024": expected a whole number ≥ 16777216/);
  assert.throws(() => forwarderOptions(env, { stateDir: '/s', spoolMaxBytes: '33554432', spoolMaxBytesPerTenant: '67108864' }, logger), /--spool-max-bytes-per-tenant 67108864: more than --spool-max-bytes/);
  assert.throws(() => forwarderOptions(env, { stateDir: '/s', spoolAfterMs: '0' }, logger), /--spool-after-ms "0"/);
});

test('spool and shutdown flags', () => {
  const options = forwarderOptions(env, { stateDir: '/s', spoolMaxBytes: '1073741824', spoolMaxBytesPerTenant: '134217728', spoolAfterMs: '500', shutdownTimeoutMs: '30000' }, logger);
  assert.deepEqual(options.spool, { maxBytes: 1073741824, maxBytesPerTenant: 134217728, afterMs: 500 });
  assert.equal(options.shutdownTimeoutMs, 30000);
  assert.deepEqual(forwarderOptions(env, { stateDir: '/s' }, logger).spool, {});
});
