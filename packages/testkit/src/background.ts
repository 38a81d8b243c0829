import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { startEngines, type StartEnginesOptions } from './engines.js';
import { EngineError } from './errors.js';
import { groupAlive, killGroup, tailFile } from './local/process.js';
import type { EngineInfo } from './types.js';

/** What a background engines run writes to `<stateDir>/engines.json`. */
export interface BackgroundState {
  /** The supervisor process that owns the engines; SIGTERM to it stops them. */
  readonly pid: number;
  readonly startedAt: string;
  readonly engines: readonly EngineInfo[];
  readonly env: Readonly<Record<string, string>>;
}

const files = (stateDir: string) => ({
  state: join(stateDir, 'engines.json'),
  env: join(stateDir, 'engines.env'),
  log: join(stateDir, 'engines.log'),
});

/**
 * Starts engines, records them in `stateDir` (engines.json, and engines.env with
 * `KAFKA_BROKERS=…` lines), and keeps them until SIGINT/SIGTERM; then stops them and
 * removes the records. This is the body of `tributary engines run`.
 */
export async function runInForeground(options: {
  stateDir: string;
  engines?: StartEnginesOptions;
  logger: Logger;
  /** Starts what runs on top of the engines; the returned function stops it, before the engines stop. */
  startServices?: (state: BackgroundState) => Promise<() => Promise<void>>;
  onReady?: (state: BackgroundState) => void;
}): Promise<void> {
  const paths = files(options.stateDir);
  mkdirSync(options.stateDir, { recursive: true });
  const engines = await startEngines({ ...options.engines, logger: options.logger });
  const state: BackgroundState = { pid: process.pid, startedAt: new Date().toISOString(), engines: engines.engines, env: engines.env };
  writeFileSync(paths.env, Object.entries(engines.env).map(([k, v]) => `${k}=${v}\n`).join(''));
  writeFileSync(paths.state, JSON.stringify(state, null, 2));
  let stopServices = async (): Promise<void> => undefined;
  try {
    if (options.startServices) stopServices = await options.startServices(state);
  } catch (err) {
    await engines.stop();
    rmSync(paths.state, { force: true });
    rmSync(paths.env, { force: true });
    throw err;
  }
  options.onReady?.(state);
  await new Promise<void>((resolve) => {
    // Engine processes are detached and unref'd; this keeps node alive until a signal.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const done = (signal: NodeJS.Signals): void => {
      options.logger.info({ signal }, 'stopping engines');
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      clearInterval(keepAlive);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await stopServices().catch((err: unknown) => options.logger.error({ err }, 'a service did not stop cleanly'));
  await engines.stop();
  rmSync(paths.state, { force: true });
  rmSync(paths.env, { force: true });
}

/** The recorded background run, if its supervisor is still alive. */
export function readBackgroundState(stateDir: string): BackgroundState | undefined {
  const path = files(stateDir).state;
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as BackgroundState;
    return processAlive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Spawns `command` (which must end up in {@link runInForeground}) detached from this
 * process and waits until it has recorded running engines. Returns the existing state if
 * engines already run from this state dir.
 */
export async function startInBackground(options: { stateDir: string; command: readonly string[]; timeoutMs?: number }): Promise<BackgroundState> {
  const existing = readBackgroundState(options.stateDir);
  if (existing) return existing;
  // A supervisor that was killed outright may have left its engines running: end them.
  await stopBackground(options.stateDir);
  const paths = files(options.stateDir);
  mkdirSync(options.stateDir, { recursive: true });
  rmSync(paths.state, { force: true });
  const log = openSync(paths.log, 'w');
  const [command, ...args] = options.command;
  if (!command) throw new EngineError('TRIBUTARY_ENGINES_CONFIG', 'engines', 'no command to start engines with');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  for (;;) {
    const state = readBackgroundState(options.stateDir);
    if (state) return state;
    if (exited !== undefined || Date.now() > deadline) {
      if (exited === undefined) killGroup(child.pid ?? 0, 'SIGTERM');
      throw new EngineError('TRIBUTARY_ENGINE_START_FAILED', 'engines', exited === undefined ? 'timed out starting' : `exited with code ${exited}`, {
        logFile: paths.log,
        logTail: tailFile(paths.log, 40),
      });
    }
    await sleep(200);
  }
}

/**
 * Stops a background run: SIGTERM to its supervisor, which stops its engines. If the
 * supervisor died without stopping them, their process groups are killed directly.
 * Resolves false if nothing was running.
 */
export async function stopBackground(stateDir: string, timeoutMs = 60_000): Promise<boolean> {
  const paths = files(stateDir);
  if (!existsSync(paths.state)) return false;
  let state: BackgroundState;
  try {
    state = JSON.parse(readFileSync(paths.state, 'utf8')) as BackgroundState;
  } catch {
    rmSync(paths.state, { force: true });
    return false;
  }
  if (processAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (processAlive(state.pid) && Date.now() < deadline) await sleep(100);
  }
  const groups = state.engines.flatMap((engine) => (engine.pid ? [engine.pid] : []));
  for (const pgid of groups) if (groupAlive(pgid)) killGroup(pgid, 'SIGKILL');
  if (processAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  rmSync(paths.state, { force: true });
  rmSync(paths.env, { force: true });
  return true;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
