import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { InvalidFlagError } from '@tributary/service';
import { notifierOptions } from './main.js';

const logger = pino({ level: 'silent' });
const env = { KAFKA_BROKERS: '127.0.0.1:9092' };

test('flags and environment become options: windows in seconds, the allowlist and the secrets directory', () => {
  const options = notifierOptions({ ...env, TRIBUTARY_NOTIFY_ALLOW: '10.20.0.0/16', TRIBUTARY_NOTIFY_SECRETS_DIR: '/etc/secrets' }, { windowSeconds: '120', minWindowSeconds: '30', retryForSeconds: '60', tenants: 'a,b' }, logger);
  assert.deepEqual(options.allow, ['10.20.0.0/16']);
  assert.equal(options.secretsDir, '/etc/secrets');
  assert.equal(options.defaultWindowMs, 120_000);
  assert.equal(options.minWindowMs, 30_000);
  assert.equal(options.retryForMs, 60_000);
  assert.deepEqual(options.tenants, ['a', 'b']);
  assert.equal(options.metricsPort, 9095);
});

test('a bad flag or setting is refused, naming it', () => {
  const refused = (flags: Record<string, string>, pattern: RegExp, environment: Record<string, string> = env) =>
    assert.throws(() => notifierOptions(environment, flags, logger), (err: unknown) => err instanceof Error && pattern.test(err.message));
  refused({ windowSeconds: 'soon' }, /--window-seconds "soon": expected a whole number/);
  refused({ windowSeconds: '5' }, /--window-seconds "5": expected at least --min-window-seconds \(10\)/);
  refused({ tenants: 'Payments' }, /--tenants "Payments"/);
  refused({ metricsPort: '70000' }, /--metrics-port "70000": expected a port number/);
  refused({}, /TRIBUTARY_NOTIFY_ALLOW: /, { ...env, TRIBUTARY_NOTIFY_ALLOW: 'not-an-address' });
  assert.throws(() => notifierOptions(env, { samples: '-1' }, logger), InvalidFlagError);
});
