import type { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '@tributary/logger';

/** Anything long-lived: `start()` resolves once it serves, `stop()` drains and releases everything. */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Exit codes of every service command. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, invalidConfiguration: 2 });

export interface RunServiceOptions<S extends Service> {
  /** The logger's name, and the service's in log lines. */
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
  /** Builds the service from its configuration; a throw is an invalid configuration (exit 2). */
  readonly create: (logger: Logger) => S;
  /** After `start()` resolved, e.g. to log where it listens. */
  readonly started?: (service: S, logger: Logger) => void;
  /** Where SIGINT and SIGTERM come from; default `process`. */
  readonly signals?: Pick<EventEmitter, 'once' | 'off'>;
  /** Default: a pino logger named `name` at `LOG_LEVEL`. */
  readonly logger?: Logger;
}

/**
 * Runs a service until SIGINT or SIGTERM, then stops it: the one shell of every service
 * command. Resolves with the exit code: 0 after a clean stop, 1 when it failed to start,
 * 2 when its configuration is invalid.
 */
export async function runService<S extends Service>(options: RunServiceOptions<S>): Promise<number> {
  const logger = options.logger ?? createLogger({ name: options.name, level: options.env['LOG_LEVEL'] });
  const signals = options.signals ?? process;
  let service: S;
  try {
    service = options.create(logger);
  } catch (err) {
    logger.fatal({ err }, 'invalid configuration');
    return EXIT.invalidConfiguration;
  }
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const stopped = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      logger.info({ signal }, 'stopping');
      void service.stop().then(resolve, (err: unknown) => {
        logger.error({ err }, 'stopped with an error');
        resolve();
      });
    };
    signals.once('SIGINT', onSignal);
    signals.once('SIGTERM', onSignal);
  });
  try {
    await service.start();
    options.started?.(service, logger);
  } catch (err) {
    logger.fatal({ err }, `${options.name} failed to start`);
    if (onSignal) {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
    }
    await service.stop().catch(() => undefined);
    return EXIT.failed;
  }
  await stopped;
  return EXIT.ok;
}
