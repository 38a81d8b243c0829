export { runService, EXIT } from './run.js';
export type { Service, RunServiceOptions } from './run.js';
export { consumerReadiness, createHealthServer } from './health.js';
export type { ConsumerState, HealthServerDeps, MetricsSource, Readiness } from './health.js';
export { ifSet, InvalidFlagError, parseCount, parsePort, parseSize, parseTenantList } from './flags.js';
