import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { InvalidFlagError, parseSize, processorOptions } from './main.js';

const env = { KAFKA_BROKERS: '127.0.0.1:9092', ELASTICSEARCH_URL: 'http://127.0.0.1:9200' };
const logger = pino({ level: 'silent' });

test('sizes take bytes or binary and decimal units', () => {
  assert.equal(parseSize('x', '1048576'), 1048576);
  assert.equal(parseSize('x', '5MiB'), 5 * 1024 * 1024);
  assert.equal(parseSize('x', '512 kib'), 512 * 1024);
  assert.equal(parseSize('x', '2MB'), 2_000_000);
  assert.equal(parseSize('x', undefined), undefined);
  for (const bad of ['', '0', '-1', 'lots', '5 parsecs', '1e9']) assert.throws(() => parseSize('max-bulk-bytes', bad), /--max-bulk-bytes .*: expected a size/, bad);
});

test('flags become options; unset ones leave the defaults', () => {
  const options = processorOptions(env, { tenants: 'payments, checkout', maxBulkBytes: '8MiB', lingerMs: '0', maxInFlightBytesPerTenant: '16MiB', shutdownTimeoutMs: '5000' }, logger);
  assert.deepEqual(options.tenants, ['payments', 'checkout']);
  assert.equal(options.bulk?.maxBytes, 8 * 1024 * 1024);
  assert.equal(options.bulk?.lingerMs, 0);
  assert.equal(options.bulk?.maxDocuments, undefined);
  assert.equal(options.inFlight?.tenant, 16 * 1024 * 1024);
  assert.equal(options.inFlight?.process, undefined);
  assert.equal(options.shutdownTimeoutMs, 5000);
  assert.equal('batchTimeBudgetMs' in options, false);
  assert.equal(options.metricsPort, 9090);
});

test('a bad flag is refused with its name and what was expected', () => {
  const refuse = (flags: Parameters<typeof processorOptions>[1], pattern: RegExp): void =>
    assert.throws(() => processorOptions(env, flags, logger), (err: unknown) => err instanceof InvalidFlagError && pattern.test(err.message));
  refuse({ concurrency: '0' }, /--concurrency "0": expected a whole number ≥ 1/);
  refuse({ metricsPort: '70000' }, /--metrics-port "70000": expected a port number/);
  refuse({ tenants: 'Payments' }, /--tenants "Payments": expected tenant names/);
  refuse({ tenants: ' , ' }, /--tenants .*at least one/);
  refuse({ lingerMs: 'soon' }, /--linger-ms "soon"/);
  assert.throws(() => processorOptions({}, {}, logger), /KAFKA_BROKERS|broker/);
});
