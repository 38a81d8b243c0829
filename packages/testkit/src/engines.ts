import { existsSync } from 'node:fs';
import type { ContainerEngine } from './containers.js';
import { pino, type Logger } from 'pino';
import { ENGINE_ENV, existingEngine, parseModeSetting, type ModeSetting } from './config.js';
import { EngineError } from './errors.js';
import { engineAnswers } from './health.js';
import { cacheRoot } from './local/cache.js';
import type { LocalContext } from './local/context.js';
import { installElasticsearch, startElasticsearch } from './local/elasticsearch.js';
import { javaHome } from './local/java.js';
import { installKafka, startKafka, startRestartableKafka as startLocalRestartableKafka, type RestartableKafka } from './local/kafka.js';
import { goInstall, installKubernetes, startKubernetes, type LocalKubernetes } from './local/kubernetes.js';
import { ENGINE_VERSIONS } from './versions.js';
import { installSchemaRegistry, startSchemaRegistry } from './local/schema-registry.js';
import { DEFAULT_ENGINES, ENGINE_NAMES, type EngineInfo, type EngineName, type KafkaEndpoint, type HttpEndpoint, type KubernetesEndpoint, type RunningEngine } from './types.js';

export interface StartEnginesOptions {
  /** Which engines to provide; each defaults to true. */
  readonly kafka?: boolean;
  readonly elasticsearch?: boolean;
  readonly schemaRegistry?: boolean;
  /** The Kubernetes API extension server (for the operator); only when true. */
  readonly kubernetes?: boolean;
  /** Default: `TRIBUTARY_ENGINES`, else auto (containers when Docker answers, else local). */
  readonly mode?: ModeSetting;
  /** Honour KAFKA_BROKERS / ELASTICSEARCH_URL / SCHEMA_REGISTRY_URL / KUBECONFIG (default true). */
  readonly useExisting?: boolean;
  /** Default: process.env. Only read, never written. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Per engine, after its install; default 120 s (a cold JVM on a busy 2-core machine). */
  readonly startTimeoutMs?: number;
}

type Want = Pick<StartEnginesOptions, EngineName>;
type Endpoint<W extends Want, K extends EngineName, T> = W[K] extends false ? undefined : T;
type OptIn<W extends Want, K extends EngineName, T> = W[K] extends true ? T : undefined;

/** Running engines: their addresses, the variables that point clients at them, and stop(). */
export type Engines<W extends Want = Want> = {
  readonly kafka: Endpoint<W, 'kafka', KafkaEndpoint>;
  readonly elasticsearch: Endpoint<W, 'elasticsearch', HttpEndpoint>;
  readonly schemaRegistry: Endpoint<W, 'schemaRegistry', HttpEndpoint>;
  readonly kubernetes: OptIn<W, 'kubernetes', KubernetesEndpoint>;
  /** What runs where, for status output. */
  readonly engines: readonly EngineInfo[];
  /** `KAFKA_BROKERS=…` etc. for the engines provided. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops what this call started (nothing, for existing engines). Safe to call twice. */
  stop(): Promise<void>;
};

/**
 * Provides real engines: existing ones named in the environment, else containers when a
 * Docker engine answers, else JVMs assembled from Maven Central on free loopback ports.
 * Resolves once each answers a real client.
 */
export async function startEngines<W extends StartEnginesOptions>(options: W = {} as W): Promise<Engines<W>> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? pino({ level: 'silent' });
  const wanted = ENGINE_NAMES.filter((name) => (DEFAULT_ENGINES.includes(name) ? options[name] !== false : options[name] === true));
  const existing = new Map<EngineName, string>();
  if (options.useExisting !== false) {
    for (const name of wanted) {
      const address = existingEngine(name, env);
      if (address) existing.set(name, address);
    }
  }
  const toStart = wanted.filter((name) => !existing.has(name));
  const running: RunningEngine[] = [];
  const addresses = new Map(existing);

  await checkExisting(existing);
  if (toStart.length > 0) {
    const mode = await resolveMode(options.mode ?? parseModeSetting(env['TRIBUTARY_ENGINES']), env, logger);
    if (mode === 'containers') {
      const { startContainers } = await import('./containers.js');
      // No container image serves the API extension server: it runs locally in either mode.
      const started = await startContainers(toStart.filter((name): name is ContainerEngine => name !== 'kubernetes'), logger, options.startTimeoutMs ?? 180_000);
      running.push(...started);
      if (toStart.includes('kubernetes')) running.push(await startKubernetes(localContext(env, logger, options.startTimeoutMs)));
    } else {
      const ctx = localContext(env, logger, options.startTimeoutMs);
      // Installs one at a time: concurrent Maven runs race on the shared ~/.m2 repository.
      for (const name of toStart) await LOCAL[name].install(ctx);
      const results = await Promise.allSettled(toStart.map((name) => LOCAL[name].start(ctx)));
      for (const result of results) if (result.status === 'fulfilled') running.push(result.value);
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failures.length > 0) {
        await Promise.all(running.map((engine) => engine.stop()));
        throw failures.length === 1 ? failures[0] : new AggregateError(failures, failures.map(String).join('\n'));
      }
    }
    for (const engine of running) addresses.set(engine.info.name, engine.info.address);
    logger.info({ engines: running.map((e) => e.info) }, 'engines started');
  }

  const infos: EngineInfo[] = [
    ...[...existing].map(([name, address]): EngineInfo => ({ name, mode: 'external', address })),
    ...running.map((engine) => engine.info),
  ];
  let stopping: Promise<void> | undefined;
  const kafka = addresses.get('kafka');
  const elasticsearch = addresses.get('elasticsearch');
  const schemaRegistry = addresses.get('schemaRegistry');
  const kubernetes = addresses.get('kubernetes');
  return {
    kafka: kafka === undefined ? undefined : { brokers: kafka.split(',').map((b) => b.trim()) },
    elasticsearch: elasticsearch === undefined ? undefined : { url: elasticsearch },
    schemaRegistry: schemaRegistry === undefined ? undefined : { url: schemaRegistry },
    kubernetes: kubernetes === undefined ? undefined : { kubeconfig: kubernetes },
    engines: infos,
    env: Object.fromEntries([...addresses].map(([name, address]) => [ENGINE_ENV[name], address])),
    stop: () => (stopping ??= Promise.all(running.map((engine) => engine.stop())).then(() => undefined)),
  } as unknown as Engines<W>;
}

export type { RestartableKafka } from './local/kafka.js';

/**
 * A Kafka of the caller's own that it may stop and start again (an outage test). Always a
 * local JVM: the shared engines of a test run must never be stopped under other tests.
 */
export function startRestartableKafka(options: { env?: NodeJS.ProcessEnv; logger?: Logger; startTimeoutMs?: number } = {}): Promise<RestartableKafka> {
  return startLocalRestartableKafka(localContext(options.env ?? process.env, options.logger ?? pino({ level: 'silent' }), options.startTimeoutMs));
}

export type { LocalKubernetes } from './local/kubernetes.js';

/**
 * A Kubernetes API server of the caller's own (the API extension server on etcd), which it
 * may stop and start again; always local, for the same reason as `startRestartableKafka`.
 */
export function startLocalKubernetes(options: { env?: NodeJS.ProcessEnv; logger?: Logger; startTimeoutMs?: number } = {}): Promise<LocalKubernetes> {
  return startKubernetes(localContext(options.env ?? process.env, options.logger ?? pino({ level: 'silent' }), options.startTimeoutMs));
}

/**
 * kustomize (built with Go once, about 20 s, cached like the engines), to render the
 * deploy/ manifests as `kubectl apply -k` would; returns the binary.
 */
export function installKustomize(options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {}): Promise<string> {
  const env = options.env ?? process.env;
  return goInstall({ env, cacheRoot: cacheRoot(env), logger: options.logger ?? pino({ level: 'silent' }) }, { module: 'sigs.k8s.io/kustomize/kustomize/v5', version: ENGINE_VERSIONS.kustomize, binary: 'kustomize' });
}

/** Downloads and builds every local engine that is not cached yet; starts nothing. */
export async function prepareEngines(options: { env?: NodeJS.ProcessEnv; logger?: Logger; only?: readonly EngineName[] } = {}): Promise<void> {
  const ctx = localContext(options.env ?? process.env, options.logger ?? pino({ level: 'silent' }));
  for (const name of options.only ?? ENGINE_NAMES) await LOCAL[name].install(ctx);
}

const LOCAL: Record<EngineName, { install: (ctx: LocalContext) => Promise<unknown>; start: (ctx: LocalContext) => Promise<RunningEngine> }> = {
  kafka: { install: installKafka, start: startKafka },
  elasticsearch: { install: installElasticsearch, start: startElasticsearch },
  schemaRegistry: { install: installSchemaRegistry, start: startSchemaRegistry },
  kubernetes: { install: installKubernetes, start: startKubernetes },
};

function localContext(env: NodeJS.ProcessEnv, logger: Logger, startTimeoutMs = 120_000): LocalContext {
  return { env, logger, cacheRoot: cacheRoot(env), javaHome: javaHome(env), startTimeoutMs };
}

/** Existing engines must answer now: a typo in KAFKA_BROKERS should fail here, clearly. */
async function checkExisting(existing: Map<EngineName, string>): Promise<void> {
  await Promise.all(
    [...existing].map(async ([name, address]) => {
      if (!(await engineAnswers(name, address))) {
        throw new EngineError('TRIBUTARY_ENGINE_UNHEALTHY', name, `${ENGINE_ENV[name]}=${address} does not answer`, { retriable: true });
      }
    }),
  );
}

async function resolveMode(setting: ModeSetting, env: NodeJS.ProcessEnv, logger: Logger): Promise<'local' | 'containers'> {
  if (setting !== 'auto') return setting;
  if (!env['DOCKER_HOST'] && !existsSync('/var/run/docker.sock')) return 'local';
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return 'containers';
  } catch (err) {
    logger.warn({ err }, 'a Docker socket is configured but no engine answers; running engines locally');
    return 'local';
  }
}
