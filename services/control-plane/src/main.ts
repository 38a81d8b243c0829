import { runService } from '@tributary/service';
import { ControlPlane } from './service.js';
import { controlPlaneConfig } from './config.js';

/**
 * Runs the control plane until SIGINT/SIGTERM. The only place that reads the environment
 * for it; `tributary control-plane` calls this.
 */
export function runControlPlane(env: NodeJS.ProcessEnv, flags: { port?: string; host?: string }): Promise<number> {
  return runService({ name: 'control-plane', env, create: (logger) => new ControlPlane({ ...controlPlaneConfig(env, flags), logger }) });
}
