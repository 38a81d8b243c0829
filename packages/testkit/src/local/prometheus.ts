import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { EngineError } from '../errors.js';
import { engineRunDir } from './engine-dir.js';
import { EngineProcess } from './process.js';
import { freePort } from './ports.js';
import { waitUntilReady } from './wait.js';

/** What a test's Prometheus scrapes: a job name and the `host:port` of each target's `/metrics`. */
export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly string[];
}

export interface LocalPrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  /** Rule files to load (alerts, recording rules), absolute paths. */
  readonly ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval; default 1 s (tests want answers quickly). */
  readonly intervalSeconds?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  readonly startTimeoutMs?: number;
}

export interface LocalPrometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Runs an instant query; throws with Prometheus's error when it doesn't parse. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** The alerts as `/api/v1/alerts` reports them: pending or firing. */
  alerts(): Promise<Array<{ labels: Record<string, string>; state: 'pending' | 'firing'; annotations: Record<string, string> }>>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus server (Debian's `prometheus` package) on a free loopback port, scraping
 * the given targets and evaluating the given rules, with its data in a fresh temp dir.
 */
export async function startLocalPrometheus(options: LocalPrometheusOptions): Promise<LocalPrometheus> {
  const env = options.env ?? process.env;
  const binary = env['TRIBUTARY_PROMETHEUS'] ?? '/usr/bin/prometheus';
  if (!existsSync(binary)) throw new EngineError('TRIBUTARY_ENGINE_INSTALL_FAILED', 'prometheus', "prometheus not found: install Debian's prometheus (apt-get install prometheus) or set TRIBUTARY_PROMETHEUS");
  const logger = options.logger ?? pino({ level: 'silent' });
  const interval = `${options.intervalSeconds ?? 1}s`;
  const port = await freePort();
  const { dir, remove } = engineRunDir('prometheus');
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: options.jobs.map((j) => ({ job_name: j.job, static_configs: [{ targets: j.targets }] })),
  };
  // JSON is YAML: no YAML library needed to write Prometheus's configuration.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  mkdirSync(join(dir, 'data'));
  const engine = await EngineProcess.spawn({
    engine: 'prometheus',
    command: binary,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    cwd: dir,
    env: { PATH: env['PATH'] ?? '/usr/bin:/bin', HOME: dir },
    logFile: join(dir, 'prometheus.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await engine.stop();
    remove();
  };
  try {
    await waitUntilReady({
      engine: 'prometheus',
      process: engine,
      ready: async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok ?? false,
      timeoutMs: options.startTimeoutMs ?? 60_000,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  logger.info({ url }, 'prometheus started');
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: Array<{ labels: Record<string, string>; state: 'pending' | 'firing'; annotations: Record<string, string> }> }>('/api/v1/alerts')).alerts,
    stop,
  };
}
