import { createLogger } from '@tributary/logger';
import { ControlPlane } from './service.js';
import { controlPlaneConfig } from './config.js';

/**
 * Runs the control plane until SIGINT/SIGTERM. The only place that reads the environment
 * for it; `tributary control-plane` calls this.
 */
export async function runControlPlane(env: NodeJS.ProcessEnv, flags: { port?: string; host?: string }): Promise<number> {
  const logger = createLogger({ name: 'control-plane', level: env['LOG_LEVEL'] });
  let service: ControlPlane;
  try {
    service = new ControlPlane({ ...controlPlaneConfig(env, flags), logger });
  } catch (err) {
    logger.fatal({ err }, 'invalid configuration');
    return 2;
  }
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopping');
      void service.stop().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  try {
    await service.start();
  } catch (err) {
    logger.fatal({ err }, 'control plane failed to start');
    await service.stop().catch(() => undefined);
    return 1;
  }
  await stopped;
  return 0;
}
