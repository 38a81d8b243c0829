import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** The service or tool name, written as `name` on every line. */
  readonly name: string;
  /** Usually the service's `LOG_LEVEL`; defaults to `info`. */
  readonly level?: string | undefined;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  readonly destination?: DestinationStream | undefined;
}

/** A configuration fault the service should report at startup and exit on. */
export class InvalidLogLevelError extends Error {
  readonly code = 'TRIBUTARY_INVALID_LOG_LEVEL';
  constructor(readonly level: string) {
    super(`LOG_LEVEL "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
    this.name = 'InvalidLogLevelError';
  }
}

/** Creates a JSON-lines logger; components take `logger.child({ component, tenant })`. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level === undefined || options.level === '' ? 'info' : options.level.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new InvalidLogLevelError(options.level ?? '');
  return pino(
    {
      name: options.name,
      level,
      // Elasticsearch-friendly field names: the same logs may end up in Tributary itself.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
