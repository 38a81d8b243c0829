export { runService, EXIT } from './run.js';
export type { Service, RunServiceOptions } from './run.js';
export { createHealthServer } from './health.js';
export type { HealthServerDeps, MetricsSource, Readiness } from './health.js';
export { InvalidFlagError, parseCount, parsePort, parseSize, parseTenantList } from './flags.js';
