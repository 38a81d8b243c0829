import type { Admin, ITopicConfig } from 'kafkajs';
import { parseTenant, tenantNames } from '@tributary/tenant';
import { TRAFFIC_RETENTION_MS, TRAFFIC_TOPIC } from './traffic.js';

/** Compacted: key `<tenant>/<pipeline>`, value = accepted spec + compiled form + version. */
export const PIPELINES_TOPIC = 'tributary.pipelines';
/** Compacted: the last validation result of every manifest, accepted or rejected. */
export const STATUS_TOPIC = 'tributary.status';
/** Compacted: key `<tenant>/<pipeline>#<i>`, the last settled notification of each dead-letter subscription (the notifier's). */
export const DELIVERIES_TOPIC = 'tributary.deliveries';

export interface TenantTopicOptions {
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** How long raw records are kept; default 7 days. */
  readonly retentionMs?: number;
  /** How long dead letters are kept (long enough to notice, fix and replay); default `retentionMs`. */
  readonly deadLetterRetentionMs?: number;
  /** Largest record batch `logs.<tenant>` accepts, bytes; default 1 MiB (Kafka's own default). */
  readonly maxMessageBytes?: number;
}

/**
 * Room `dlq.<tenant>` has beyond `logs.<tenant>` for the dead-letter headers: any record
 * that got into the logs topic can be dead-lettered byte for byte. Without it, one large
 * record would stop its partition: the processor never drops a record it can't park.
 */
export const DEAD_LETTER_HEADROOM_BYTES = 64 * 1024;

/** `max.message.bytes` of `logs.<tenant>` unless set otherwise: the limit of one (compressed) record batch. */
export const LOGS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The largest record value a producer of `logs.<tenant>` sends: under the topic's limit by
 * room for the batch's framing, so the record goes even when it doesn't compress. A larger
 * one would be refused by the broker again and again, holding back every record behind it.
 */
export const LOG_RECORD_MAX_BYTES = LOGS_MAX_MESSAGE_BYTES - 64 * 1024;

/**
 * Bytes of record values per produce request: one request is one batch per partition, and
 * a batch of records that don't compress must stay under the topic's limit.
 */
export const PRODUCE_REQUEST_MAX_BYTES = 512 * 1024;

/** The topic definitions a tenant needs: its logs topic and its dead-letter topic. */
export function tenantTopics(tenant: string, options: TenantTopicOptions = {}): ITopicConfig[] {
  const names = tenantNames(tenant);
  const retention = options.retentionMs ?? 7 * 24 * 3600 * 1000;
  const deadLetterRetention = options.deadLetterRetentionMs ?? retention;
  const maxMessageBytes = options.maxMessageBytes ?? LOGS_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1024) throw new RangeError(`maxMessageBytes must be a whole number ≥ 1024, got ${maxMessageBytes}`);
  return [
    { topic: names.logsTopic, maxBytes: maxMessageBytes, retentionMs: retention },
    { topic: names.deadLetterTopic, maxBytes: maxMessageBytes + DEAD_LETTER_HEADROOM_BYTES, retentionMs: deadLetterRetention },
  ].map(({ topic, maxBytes, retentionMs }) => ({
    topic,
    numPartitions: options.partitions ?? 3,
    replicationFactor: options.replicationFactor ?? 1,
    configEntries: [
      { name: 'retention.ms', value: String(retentionMs) },
      { name: 'max.message.bytes', value: String(maxBytes) },
    ],
  }));
}

/** The platform's own topics: compacted, and tributary.traffic also deleting what is older than its retention. */
export function platformTopics(replicationFactor = 1): ITopicConfig[] {
  const compacted = [PIPELINES_TOPIC, STATUS_TOPIC, DELIVERIES_TOPIC].map((topic) => ({
    topic,
    numPartitions: 1,
    replicationFactor,
    configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
  }));
  const traffic = {
    topic: TRAFFIC_TOPIC,
    numPartitions: 1,
    replicationFactor,
    configEntries: [
      { name: 'cleanup.policy', value: 'compact,delete' },
      { name: 'retention.ms', value: String(TRAFFIC_RETENTION_MS) },
      // Retention and compaction act on closed segments: close one every 10 minutes.
      { name: 'segment.ms', value: String(600_000) },
    ],
  };
  return [...compacted, traffic];
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

/** The tenant of a `logs.<tenant>` topic, or undefined for any other topic. */
export function tenantOfTopic(topic: string): string | undefined {
  if (!topic.startsWith('logs.')) return undefined;
  const parsed = parseTenant(topic.slice('logs.'.length));
  return parsed.ok ? parsed.value : undefined;
}
