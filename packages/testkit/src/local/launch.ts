import type { EngineName, RunningEngine } from '../types.js';
import { EngineProcess, type SpawnOptions } from './process.js';
import { waitUntilReady } from './wait.js';

export interface LaunchOptions extends SpawnOptions {
  readonly engine: EngineName;
  readonly version: string;
  /** What clients use: brokers for Kafka, a base URL otherwise. */
  readonly address: string;
  readonly ready: () => Promise<boolean>;
  readonly startTimeoutMs: number;
  /** Removes the run's temp dir once the process is gone. */
  readonly removeRunDir: () => void;
}

/** Spawns a local engine, waits until it answers, and cleans everything up if it doesn't. */
export async function launchEngine(options: LaunchOptions): Promise<RunningEngine> {
  let engine: EngineProcess;
  try {
    engine = await EngineProcess.spawn(options);
  } catch (err) {
    options.removeRunDir();
    throw err;
  }
  const stop = async (): Promise<void> => {
    await engine.stop();
    options.removeRunDir();
  };
  try {
    await waitUntilReady({ engine: options.engine, process: engine, ready: options.ready, timeoutMs: options.startTimeoutMs });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    info: { name: options.engine, mode: 'local', address: options.address, version: options.version, pid: engine.pid, logFile: options.logFile },
    stop,
  };
}
