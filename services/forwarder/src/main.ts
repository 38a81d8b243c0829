import { LOG_RECORD_MAX_BYTES, parseBrokers } from '@tributary/kafka';
import { runService } from '@tributary/service';
import { Forwarder, type ForwarderOptions } from './forwarder.js';

/** The command-line flags of `tributary forwarder`, as commander hands them over. */
export interface ForwarderFlags {
  root?: string;
  node?: string;
  stateDir?: string;
  includeNamespaces?: string;
  excludeNamespaces?: string;
  includeContainers?: string;
  excludeContainers?: string;
  maxLineBytes?: string;
  metricsPort?: string;
  host?: string;
  spoolMaxBytes?: string;
  spoolMaxBytesPerTenant?: string;
  spoolAfterMs?: string;
  shutdownTimeoutMs?: string;
}

/** The largest --max-line-bytes: room left in a record for the envelope around the piece. */
const MAX_LINE_BYTES_LIMIT = 768 * 1024;

const list = (value: string | undefined): string[] | undefined => value?.split(',').map((v) => v.trim()).filter((v) => v !== '');

/** The forwarder's options from its environment and flags; throws with the flag's name when one is wrong. */
export function forwarderOptions(env: NodeJS.ProcessEnv, flags: ForwarderFlags, logger: ForwarderOptions['logger']): ForwarderOptions {
  const node = flags.node ?? env['NODE_NAME'];
  if (!node) throw new Error('--node: required (or NODE_NAME, from the downward API): it is part of every record id');
  if (!flags.stateDir) throw new Error('--state-dir: required: where the position file lives (a hostPath that outlives the pod)');
  const maxLineBytes = whole('--max-line-bytes', flags.maxLineBytes, 16);
  if (maxLineBytes !== undefined && maxLineBytes > MAX_LINE_BYTES_LIMIT) throw new Error(`--max-line-bytes ${maxLineBytes}: at most ${MAX_LINE_BYTES_LIMIT} (a piece and its envelope must fit one Kafka record of ${LOG_RECORD_MAX_BYTES} bytes)`);
  const spoolMaxBytes = whole('--spool-max-bytes', flags.spoolMaxBytes, 16 * 1024 * 1024);
  const spoolMaxBytesPerTenant = whole('--spool-max-bytes-per-tenant', flags.spoolMaxBytesPerTenant, 1024 * 1024);
  if (spoolMaxBytesPerTenant !== undefined && spoolMaxBytes !== undefined && spoolMaxBytesPerTenant > spoolMaxBytes) {
    throw new Error(`--spool-max-bytes-per-tenant ${spoolMaxBytesPerTenant}: more than --spool-max-bytes ${spoolMaxBytes}`);
  }
  const spoolAfterMs = whole('--spool-after-ms', flags.spoolAfterMs, 1);
  const shutdownTimeoutMs = whole('--shutdown-timeout-ms', flags.shutdownTimeoutMs, 0);
  const filter = {
    ...(list(flags.includeNamespaces) ? { includeNamespaces: list(flags.includeNamespaces) as string[] } : {}),
    ...(list(flags.excludeNamespaces) ? { excludeNamespaces: list(flags.excludeNamespaces) as string[] } : {}),
    ...(list(flags.includeContainers) ? { includeContainers: list(flags.includeContainers) as string[] } : {}),
    ...(list(flags.excludeContainers) ? { excludeContainers: list(flags.excludeContainers) as string[] } : {}),
  };
  return {
    brokers: parseBrokers(env['KAFKA_BROKERS'] ?? ''),
    root: flags.root ?? '/var/log/pods',
    node,
    stateDir: flags.stateDir,
    filter,
    ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
    spool: {
      ...(spoolMaxBytes === undefined ? {} : { maxBytes: spoolMaxBytes }),
      ...(spoolMaxBytesPerTenant === undefined ? {} : { maxBytesPerTenant: spoolMaxBytesPerTenant }),
      ...(spoolAfterMs === undefined ? {} : { afterMs: spoolAfterMs }),
    },
    ...(shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs }),
    metricsPort: metricsPort(flags.metricsPort ?? '9091'),
    host: flags.host ?? '0.0.0.0',
    logger,
  };
}

/** A whole-number flag: undefined when absent; throws naming the flag when it isn't one, or is below `min`. */
function whole(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new Error(`${flag} ${JSON.stringify(value)}: expected a whole number ≥ ${min}`);
  return n;
}

function metricsPort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`--metrics-port ${JSON.stringify(value)}: expected a port number (0 picks a free one)`);
  return port;
}

/** Runs a forwarder until SIGINT/SIGTERM; the only place that reads its environment. */
export function runForwarder(env: NodeJS.ProcessEnv, flags: ForwarderFlags): Promise<number> {
  return runService({
    name: 'forwarder',
    env,
    create: (logger) => new Forwarder(forwarderOptions(env, flags, logger)),
    started: (forwarder, logger) => logger.info({ files: forwarder.files, metrics: forwarder.metricsAddress }, 'forwarder running'),
  });
}
