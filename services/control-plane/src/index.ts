export { ControlPlane } from './service.js';
export type { ControlPlaneOptions } from './service.js';
export { controlPlaneConfig, ControlPlaneConfigError } from './config.js';
export { TokenAuthenticator, mayAccess } from './auth.js';
export { ControlPlaneMetrics } from './metrics.js';
export type { Principal, TokenConfig } from './auth.js';
export type { PipelineStatus } from '@tributary/apply';
export { runControlPlane } from './main.js';
