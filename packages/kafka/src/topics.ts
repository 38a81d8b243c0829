import type { Admin, ITopicConfig } from 'kafkajs';
import { tenantNames } from '@tributary/tenant';

/** Compacted: key `<tenant>/<pipeline>`, value = accepted spec + compiled form + version. */
export const PIPELINES_TOPIC = 'tributary.pipelines';
/** Compacted: the last validation result of every manifest, accepted or rejected. */
export const STATUS_TOPIC = 'tributary.status';

export interface TenantTopicOptions {
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** How long raw records and dead letters are kept; default 7 days. */
  readonly retentionMs?: number;
}

/** The topic definitions a tenant needs: its logs topic and its dead-letter topic. */
export function tenantTopics(tenant: string, options: TenantTopicOptions = {}): ITopicConfig[] {
  const names = tenantNames(tenant);
  const retention = String(options.retentionMs ?? 7 * 24 * 3600 * 1000);
  return [names.logsTopic, names.deadLetterTopic].map((topic) => ({
    topic,
    numPartitions: options.partitions ?? 3,
    replicationFactor: options.replicationFactor ?? 1,
    configEntries: [{ name: 'retention.ms', value: retention }],
  }));
}

/** The platform's own compacted topics. */
export function platformTopics(replicationFactor = 1): ITopicConfig[] {
  return [PIPELINES_TOPIC, STATUS_TOPIC].map((topic) => ({
    topic,
    numPartitions: 1,
    replicationFactor,
    configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
  }));
}

/**
 * Creates the topics that don't exist yet and waits until their leaders are elected.
 * Returns the names it created; existing topics are left as they are.
 */
export async function ensureTopics(admin: Admin, topics: readonly ITopicConfig[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: [...missing], waitForLeaders: true });
  } catch (err) {
    // Another instance may have created some of them between list and create.
    if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
  }
  return missing.map((t) => t.topic);
}
