export { runService, EXIT } from './run.js';
export type { Service, RunServiceOptions } from './run.js';
