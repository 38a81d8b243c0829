export { createElasticsearch, clusterHealth, InvalidElasticsearchUrlError } from './client.js';
export type { ElasticsearchOptions, ClusterHealth } from './client.js';
export { tenantIndex, tenantIndexPattern } from './indices.js';
