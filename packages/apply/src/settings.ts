import type { TenantTopicOptions } from '@tributary/kafka';

/**
 * The partitions and retention of the topics created for a tenant on its first apply, from
 * TRIBUTARY_TOPIC_PARTITIONS (default 3), TRIBUTARY_TOPIC_RETENTION_HOURS (default 168) and
 * TRIBUTARY_DLQ_RETENTION_HOURS (dead letters; default the topic retention). Read the same
 * way by every service that applies pipelines; throws an Error naming the variable.
 */
export function tenantTopicSettings(env: NodeJS.ProcessEnv): TenantTopicOptions {
  const partitions = Number(env['TRIBUTARY_TOPIC_PARTITIONS'] ?? 3);
  const retentionHours = Number(env['TRIBUTARY_TOPIC_RETENTION_HOURS'] ?? 168);
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error('TRIBUTARY_TOPIC_PARTITIONS must be a positive integer');
  if (!(retentionHours > 0)) throw new Error('TRIBUTARY_TOPIC_RETENTION_HOURS must be positive');
  const deadLetterHours = Number(env['TRIBUTARY_DLQ_RETENTION_HOURS'] ?? retentionHours);
  if (!(deadLetterHours > 0)) throw new Error('TRIBUTARY_DLQ_RETENTION_HOURS must be positive');
  return { partitions, retentionMs: retentionHours * 3_600_000, deadLetterRetentionMs: deadLetterHours * 3_600_000 };
}
