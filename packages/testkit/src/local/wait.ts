import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../errors.js';
import type { ProcessLabel } from '../types.js';
import type { EngineProcess } from './process.js';

export interface WaitOptions {
  readonly engine: ProcessLabel;
  readonly process: EngineProcess;
  /** Resolves true once the engine answers as a client would use it. */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

/** Polls `ready` until it holds; fails fast with the log tail if the engine exits first. */
export async function waitUntilReady(options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const exit = options.process.exitStatus;
    if (exit !== undefined) {
      throw new EngineError('TRIBUTARY_ENGINE_START_FAILED', options.engine, `exited with code ${exit} before it was ready`, {
        logFile: options.process.logFile,
        logTail: options.process.tail(),
      });
    }
    if (await options.ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new EngineError('TRIBUTARY_ENGINE_UNHEALTHY', options.engine, `not ready after ${options.timeoutMs} ms`, {
        logFile: options.process.logFile,
        logTail: options.process.tail(),
        retriable: true,
      });
    }
    await sleep(options.intervalMs ?? 250);
  }
}
