export { applyManifest, deletePipeline, validateManifest } from './apply.js';
export type { ApplyDeps, ApplyRequest, ApplyResult } from './apply.js';
export { destinationChecker } from './destination.js';
export type { DestinationOptions } from './destination.js';
export { REFUSED_MANIFEST_LIMIT, StatusBook } from './status.js';
export type { PipelineStatus } from './status.js';
export { PipelineStore } from './store.js';
export type { PipelineStoreOptions } from './store.js';
export { tenantTopicSettings } from './settings.js';
