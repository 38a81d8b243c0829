import { parseBrokers } from '@tributary/kafka';
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
}

const list = (value: string | undefined): string[] | undefined => value?.split(',').map((v) => v.trim()).filter((v) => v !== '');

/** The forwarder's options from its environment and flags; throws with the flag's name when one is wrong. */
export function forwarderOptions(env: NodeJS.ProcessEnv, flags: ForwarderFlags, logger: ForwarderOptions['logger']): ForwarderOptions {
  const node = flags.node ?? env['NODE_NAME'];
  if (!node) throw new Error('--node: required (or NODE_NAME, from the downward API): it is part of every record id');
  if (!flags.stateDir) throw new Error('--state-dir: required: where the position file lives (a hostPath that outlives the pod)');
  const maxLineBytes = flags.maxLineBytes === undefined ? undefined : Number(flags.maxLineBytes);
  if (maxLineBytes !== undefined && (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 16)) throw new Error(`--max-line-bytes ${JSON.stringify(flags.maxLineBytes)}: expected a whole number ≥ 16`);
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
    metricsPort: metricsPort(flags.metricsPort ?? '9091'),
    host: flags.host ?? '0.0.0.0',
    logger,
  };
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
