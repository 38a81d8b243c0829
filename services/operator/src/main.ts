import { tenantTopicSettings } from '@tributary/apply';
import { parseBrokers } from '@tributary/kafka';
import { AddressPolicy } from '@tributary/notify';
import { ifSet, parseCount, parsePort, parseTenantList, runService } from '@tributary/service';
import { Operator, type OperatorOptions } from './operator.js';

/** The command-line flags of `tributary operator`, as commander hands them over: strings. */
export interface OperatorFlags {
  namespaces?: string;
  kubeconfig?: string;
  resyncSeconds?: string;
  concurrency?: string;
  metricsPort?: string;
  host?: string;
}

/**
 * The operator's options from its environment (KAFKA_BROKERS, ELASTICSEARCH_URL, KUBECONFIG;
 * TRIBUTARY_TOPIC_* and TRIBUTARY_NOTIFY_ALLOW as the control plane reads them) and flags.
 */
export function operatorOptions(env: NodeJS.ProcessEnv, flags: OperatorFlags, logger: OperatorOptions['logger']): OperatorOptions {
  const elasticsearchUrl = env['ELASTICSEARCH_URL']?.trim();
  if (!elasticsearchUrl) throw new Error('ELASTICSEARCH_URL is not set');
  let allow: readonly string[];
  try {
    allow = AddressPolicy.fromSetting(env['TRIBUTARY_NOTIFY_ALLOW']).allow;
  } catch (err) {
    throw new Error(`TRIBUTARY_NOTIFY_ALLOW: ${(err as Error).message}`);
  }
  const resyncSeconds = parseCount('resync-seconds', flags.resyncSeconds);
  return {
    brokers: parseBrokers(env['KAFKA_BROKERS'] ?? ''),
    elasticsearchUrl,
    kubeconfig: flags.kubeconfig ?? (env['KUBECONFIG'] || undefined),
    // Namespaces are tenants: the same names, checked the same way.
    namespaces: parseTenantList('namespaces', flags.namespaces),
    topics: tenantTopicSettings(env),
    notifyAllow: allow,
    metricsPort: parsePort('metrics-port', flags.metricsPort ?? '9096'),
    host: flags.host ?? '0.0.0.0',
    ...ifSet('resyncMs', resyncSeconds === undefined ? undefined : resyncSeconds * 1000),
    ...ifSet('concurrency', parseCount('concurrency', flags.concurrency)),
    logger,
  };
}

/** Runs the operator until SIGINT/SIGTERM; the only place that reads its environment. */
export function runOperator(env: NodeJS.ProcessEnv, flags: OperatorFlags): Promise<number> {
  return runService({
    name: 'operator',
    env,
    create: (logger) => new Operator(operatorOptions(env, flags, logger)),
    started: (operator, logger) => logger.info({ metrics: operator.metricsAddress }, 'operator running'),
  });
}
