export { createElasticsearch, clusterHealth, InvalidElasticsearchUrlError } from './client.js';
export type { ElasticsearchOptions, ClusterHealth } from './client.js';
export { tenantIndex, tenantIndexPattern } from './indices.js';
export { bulkWrite, MAX_REASON_LENGTH } from './bulk.js';
export type { BulkItem, BulkItemResult, BulkWriteOptions, RejectionClass } from './bulk.js';
