export { createKafka } from './client.js';
export { parseBrokers, InvalidBrokersError } from './config.js';
export type { KafkaOptions } from './config.js';
export { PIPELINES_TOPIC, STATUS_TOPIC, tenantTopics, platformTopics, ensureTopics } from './topics.js';
export type { TenantTopicOptions } from './topics.js';
export { CompactedTopicView } from './compacted-view.js';
export type { CompactedTopicViewOptions } from './compacted-view.js';
