import type { ProcessLabel } from './types.js';

export type TestkitErrorCode =
  | 'TRIBUTARY_ENGINE_INSTALL_FAILED'
  | 'TRIBUTARY_ENGINE_START_FAILED'
  | 'TRIBUTARY_ENGINE_UNHEALTHY'
  | 'TRIBUTARY_ENGINES_CONFIG'
  | 'TRIBUTARY_ENGINES_NOT_RUNNING';

/** A fault starting, installing or reaching an engine; `logTail` shows what the engine said. */
export class EngineError extends Error {
  constructor(
    readonly code: TestkitErrorCode,
    readonly engine: ProcessLabel | 'engines',
    message: string,
    readonly details: { readonly logTail?: string; readonly logFile?: string; readonly retriable?: boolean; readonly cause?: unknown } = {},
  ) {
    super(
      `${engine}: ${message}` +
        (details.logFile ? `\n  log: ${details.logFile}` : '') +
        (details.logTail ? `\n  last lines:\n${indent(details.logTail)}` : ''),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'EngineError';
  }

  get retriable(): boolean {
    return this.details.retriable ?? false;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
