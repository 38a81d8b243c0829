import { parseBrokers } from '@tributary/kafka';
import { AddressPolicy } from '@tributary/notify';
import { ifSet, InvalidFlagError, parseCount, parsePort, parseTenantList, runService } from '@tributary/service';
import { Notifier, type NotifierOptions } from './notifier.js';

/** The command-line flags of `tributary notifier`, as commander hands them over: strings. */
export interface NotifierFlags {
  group?: string;
  tenants?: string;
  metricsPort?: string;
  host?: string;
  secretsDir?: string;
  windowSeconds?: string;
  minWindowSeconds?: string;
  retryForSeconds?: string;
  timeoutMs?: string;
  maxQueued?: string;
  samples?: string;
}

/**
 * The notifier's options from its environment (KAFKA_BROKERS; TRIBUTARY_NOTIFY_ALLOW, the
 * addresses inside that webhooks may reach, as the control plane reads it;
 * TRIBUTARY_NOTIFY_SECRETS_DIR) and flags. Throws `InvalidFlagError` or an address error.
 */
export function notifierOptions(env: NodeJS.ProcessEnv, flags: NotifierFlags, logger: NotifierOptions['logger']): NotifierOptions {
  const brokers = parseBrokers(env['KAFKA_BROKERS'] ?? '');
  let allow: readonly string[];
  try {
    allow = AddressPolicy.fromSetting(env['TRIBUTARY_NOTIFY_ALLOW']).allow;
  } catch (err) {
    throw new Error(`TRIBUTARY_NOTIFY_ALLOW: ${(err as Error).message}`);
  }
  const seconds = (flag: string, value: string | undefined, min = 1): number | undefined => {
    const n = parseCount(flag, value, min);
    return n === undefined ? undefined : n * 1000;
  };
  const defaultWindowMs = seconds('window-seconds', flags.windowSeconds ?? '60');
  const minWindowMs = seconds('min-window-seconds', flags.minWindowSeconds ?? '10');
  if (defaultWindowMs !== undefined && minWindowMs !== undefined && defaultWindowMs < minWindowMs) {
    throw new InvalidFlagError('window-seconds', String(flags.windowSeconds), `at least --min-window-seconds (${minWindowMs / 1000})`);
  }
  return {
    brokers,
    groupId: flags.group ?? 'tributary-notifier',
    tenants: parseTenantList('tenants', flags.tenants),
    metricsPort: parsePort('metrics-port', flags.metricsPort ?? '9095'),
    host: flags.host ?? '0.0.0.0',
    allow,
    secretsDir: flags.secretsDir ?? (env['TRIBUTARY_NOTIFY_SECRETS_DIR'] || undefined),
    ...ifSet('defaultWindowMs', defaultWindowMs),
    ...ifSet('minWindowMs', minWindowMs),
    ...ifSet('retryForMs', seconds('retry-for-seconds', flags.retryForSeconds, 0)),
    ...ifSet('timeoutMs', parseCount('timeout-ms', flags.timeoutMs)),
    ...ifSet('maxQueued', parseCount('max-queued', flags.maxQueued)),
    ...ifSet('maxSamples', parseCount('samples', flags.samples, 0)),
    logger,
  };
}

/** Runs a notifier until SIGINT/SIGTERM; the only place that reads its environment. */
export function runNotifier(env: NodeJS.ProcessEnv, flags: NotifierFlags): Promise<number> {
  return runService({
    name: 'notifier',
    env,
    create: (logger) => new Notifier(notifierOptions(env, flags, logger)),
    started: (notifier, logger) => logger.info({ metrics: notifier.metricsAddress }, 'notifier running'),
  });
}
