export { InvalidFlagError, parseCount, parseSize } from '@tributary/service';
import { parseBrokers } from '@tributary/kafka';
import { ifSet, parseCount, parsePort, parseSize, parseTenantList, runService } from '@tributary/service';
import { Processor, type ProcessorOptions } from './processor.js';

/** The command-line flags of `tributary processor`, as commander hands them over: strings. */
export interface ProcessorFlags {
  group?: string;
  concurrency?: string;
  metricsPort?: string;
  host?: string;
  tenants?: string;
  maxBulkBytes?: string;
  maxBulkDocuments?: string;
  lingerMs?: string;
  maxInFlightBulks?: string;
  maxInFlightBytes?: string;
  maxInFlightBytesPerTenant?: string;
  maxInFlightBytesPerPartition?: string;
  batchTimeBudgetMs?: string;
  shutdownTimeoutMs?: string;
}

/** The processor's options from its environment and flags; throws `InvalidFlagError` or an engine address error. */
export function processorOptions(env: NodeJS.ProcessEnv, flags: ProcessorFlags, logger: ProcessorOptions['logger']): ProcessorOptions {
  const brokers = parseBrokers(env['KAFKA_BROKERS'] ?? '');
  const elasticsearchUrl = env['ELASTICSEARCH_URL'];
  if (!elasticsearchUrl) throw new Error('ELASTICSEARCH_URL is not set');
  const metricsPort = parsePort('metrics-port', flags.metricsPort ?? '9090');
  const tenants = parseTenantList('tenants', flags.tenants);
  return {
    brokers,
    elasticsearchUrl,
    schemaRegistryUrl: env['SCHEMA_REGISTRY_URL'] || undefined,
    groupId: flags.group ?? 'tributary-processor',
    concurrency: parseCount('concurrency', flags.concurrency ?? '4') as number,
    metricsPort,
    host: flags.host ?? '0.0.0.0',
    tenants,
    bulk: {
      maxBytes: parseSize('max-bulk-bytes', flags.maxBulkBytes),
      maxDocuments: parseCount('max-bulk-documents', flags.maxBulkDocuments),
      lingerMs: parseCount('linger-ms', flags.lingerMs, 0),
      maxInFlight: parseCount('max-in-flight-bulks', flags.maxInFlightBulks),
    },
    inFlight: {
      process: parseSize('max-in-flight-bytes', flags.maxInFlightBytes),
      tenant: parseSize('max-in-flight-bytes-per-tenant', flags.maxInFlightBytesPerTenant),
      partition: parseSize('max-in-flight-bytes-per-partition', flags.maxInFlightBytesPerPartition),
    },
    ...ifSet('batchTimeBudgetMs', parseCount('batch-time-budget-ms', flags.batchTimeBudgetMs)),
    ...ifSet('shutdownTimeoutMs', parseCount('shutdown-timeout-ms', flags.shutdownTimeoutMs, 0)),
    logger,
  };
}

/** Runs a processor until SIGINT/SIGTERM; the only place that reads its environment. */
export function runProcessor(env: NodeJS.ProcessEnv, flags: ProcessorFlags): Promise<number> {
  return runService({
    name: 'processor',
    env,
    create: (logger) => new Processor(processorOptions(env, flags, logger)),
    started: (processor, logger) => logger.info({ metrics: processor.metricsAddress }, 'processor running'),
  });
}
