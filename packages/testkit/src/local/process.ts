import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../errors.js';
import type { ProcessLabel } from '../types.js';

export interface SpawnOptions {
  readonly engine: ProcessLabel;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** stdout and stderr of the engine go here, appended. */
  readonly logFile: string;
  /** Run as this user (Elasticsearch refuses root). */
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * An engine process in its own process group. Stopping it signals the whole group, so
 * JVMs that the engine's launcher script starts (Elasticsearch's CLI starts the server
 * JVM) stop with it and nothing is left behind.
 */
export class EngineProcess {
  readonly pid: number;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;
  // A crashed test runner must not leave JVMs behind: kill the group when node exits.
  private readonly onExit = (): void => killGroup(this.pid, 'SIGKILL');

  private constructor(private readonly child: ChildProcess, readonly logFile: string) {
    if (child.pid === undefined) throw new Error('process did not start');
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve();
      });
    });
    process.on('exit', this.onExit);
  }

  static spawn(options: SpawnOptions): Promise<EngineProcess> {
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(options.command, [...options.args], {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', fd, fd],
        ...(options.uid === undefined ? {} : { uid: options.uid }),
        ...(options.gid === undefined ? {} : { gid: options.gid }),
      });
      return new Promise((resolve, reject) => {
        child.once('error', (cause) =>
          reject(new EngineError('TRIBUTARY_ENGINE_START_FAILED', options.engine, `could not run ${options.command}: ${cause.message}`, { cause })),
        );
        child.once('spawn', () => {
          child.unref();
          resolve(new EngineProcess(child, options.logFile));
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  /** Undefined while running, else the exit code. */
  get exitStatus(): number | null | undefined {
    return this.exitCode;
  }

  /** The last lines the engine wrote, for error messages. */
  tail(lines = 30): string {
    return tailFile(this.logFile, lines);
  }

  /**
   * SIGTERM to the group, then SIGKILL after `graceMs`; resolves when no process of the
   * group is left. Concurrent and repeated calls share one stop.
   */
  stop(graceMs = 15_000): Promise<void> {
    this.stopping ??= (async () => {
      killGroup(this.pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (groupAlive(this.pid) && Date.now() < deadline) await sleep(100);
      if (groupAlive(this.pid)) killGroup(this.pid, 'SIGKILL');
      while (groupAlive(this.pid)) await sleep(50);
      await Promise.race([this.exited, sleep(1000)]);
      process.off('exit', this.onExit);
    })();
    return this.stopping;
  }
}

/** Whether any process of the group led by `pgid` is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals a whole process group; a group that is gone already is fine. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left to signal.
  }
}

/** The last `lines` lines of a file, reading at most its last 64 KiB. */
export function tailFile(path: string, lines = 30): string {
  try {
    const size = statSync(path).size;
    const start = Math.max(0, size - 65_536);
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}
