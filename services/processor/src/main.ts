import { parseBrokers } from '@tributary/kafka';
import { runService } from '@tributary/service';
import { parseTenant } from '@tributary/tenant';
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

/** A flag's value is wrong: the message names the flag and says what was expected. */
export class InvalidFlagError extends Error {
  constructor(flag: string, value: string, expected: string) {
    super(`--${flag} ${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'InvalidFlagError';
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, kb: 1000, mib: 1024 ** 2, mb: 1000 ** 2, gib: 1024 ** 3, gb: 1000 ** 3 };

/** `5MiB`, `512KiB`, `1048576`: a size in bytes. */
export function parseSize(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidFlagError(flag, value, 'a size such as 5MiB, 512KiB or 1048576 (bytes)');
  return bytes;
}

/** A whole number ≥ `min`. */
export function parseCount(flag: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidFlagError(flag, value, `a whole number ≥ ${min}`);
  return n;
}

/** The processor's options from its environment and flags; throws `InvalidFlagError` or an engine address error. */
export function processorOptions(env: NodeJS.ProcessEnv, flags: ProcessorFlags, logger: ProcessorOptions['logger']): ProcessorOptions {
  const brokers = parseBrokers(env['KAFKA_BROKERS'] ?? '');
  const elasticsearchUrl = env['ELASTICSEARCH_URL'];
  if (!elasticsearchUrl) throw new Error('ELASTICSEARCH_URL is not set');
  const metricsPort = parseCount('metrics-port', flags.metricsPort ?? '9090', 0) as number;
  if (metricsPort > 65535) throw new InvalidFlagError('metrics-port', String(flags.metricsPort), 'a port number (0 picks a free one)');
  let tenants: string[] | undefined;
  if (flags.tenants !== undefined) {
    tenants = flags.tenants.split(',').map((t) => t.trim()).filter((t) => t !== '');
    for (const tenant of tenants) {
      const parsed = parseTenant(tenant);
      if (!parsed.ok) throw new InvalidFlagError('tenants', flags.tenants, `tenant names separated by commas (${tenant}: ${parsed.errors.map((e) => e.reason).join("; ")})`);
    }
    if (tenants.length === 0) throw new InvalidFlagError('tenants', flags.tenants, 'at least one tenant name');
  }
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
    ...defined('batchTimeBudgetMs', parseCount('batch-time-budget-ms', flags.batchTimeBudgetMs)),
    ...defined('shutdownTimeoutMs', parseCount('shutdown-timeout-ms', flags.shutdownTimeoutMs, 0)),
    logger,
  };
}

function defined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
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
