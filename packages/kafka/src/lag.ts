import type { Admin } from 'kafkajs';
import { tenantOfTopic } from './topics.js';

/** Offsets of one partition at one instant: the log's end and the group's commit. */
export interface PartitionOffsets {
  readonly topic: string;
  readonly partition: number;
  readonly high: number;
  /** The group's committed offset; the log's start when the group has none (it would read from there). */
  readonly committed: number;
}

export interface LagSample {
  readonly at: number;
  readonly partitions: readonly PartitionOffsets[];
  /** Members of the group at that instant. */
  readonly members: number;
}

/** Reads the end offsets of `topics` and the group's commits on them, and the group's size. */
export async function sampleLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<LagSample> {
  const at = Date.now();
  const [ends, commits, group] = await Promise.all([
    Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
    topics.length === 0 ? Promise.resolve([]) : admin.fetchOffsets({ groupId, topics: [...topics] }),
    admin.describeGroups([groupId]),
  ]);
  const committed = new Map<string, number>();
  for (const { topic, partitions } of commits) for (const p of partitions) committed.set(`${topic}/${p.partition}`, Number(p.offset));
  const partitions = ends.flatMap(({ topic, offsets }) =>
    offsets.map((o) => {
      const commit = committed.get(`${topic}/${o.partition}`) ?? -1;
      // -1: no commit yet; the group starts from the log's start, so all of it is lag.
      return { topic, partition: o.partition, high: Number(o.high), committed: commit < 0 ? Number(o.low) : commit };
    }),
  );
  return { at, partitions, members: group.groups[0]?.members.length ?? 0 };
}

/** What `tributary lag` shows for one tenant. */
export interface TenantLag {
  readonly tenant: string;
  readonly topic: string;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly lag: number; readonly producedPerSecond: number; readonly consumedPerSecond: number }>;
  readonly lag: number;
  readonly producedPerSecond: number;
  readonly consumedPerSecond: number;
  /** Seconds until the lag is zero at these rates; null when it doesn't shrink. */
  readonly drainSeconds: number | null;
  /**
   * Processors that would drain it within the target, at the rate each consumes now, capped
   * by the partition count (more would hold nothing); null when none consumes to measure.
   */
  readonly processorsForTarget: number | null;
}

/**
 * Lag, rates and time to drain per tenant from two samples. The per-processor rate is the
 * group's consumption over its members (every tenant shares the same processors).
 */
export function summarizeLag(first: LagSample, second: LagSample, targetSeconds: number): TenantLag[] {
  const seconds = Math.max(0.001, (second.at - first.at) / 1000);
  const before = new Map(first.partitions.map((p) => [`${p.topic}/${p.partition}`, p]));
  const byTopic = new Map<string, PartitionOffsets[]>();
  for (const p of second.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
  const members = Math.max(second.members, first.members);
  let groupConsumed = 0;
  const topics = [...byTopic].map(([topic, partitions]) => {
    const rows = partitions
      .sort((a, b) => a.partition - b.partition)
      .map((p) => {
        const old = before.get(`${topic}/${p.partition}`) ?? p;
        return {
          partition: p.partition,
          lag: Math.max(0, p.high - p.committed),
          producedPerSecond: Math.max(0, p.high - old.high) / seconds,
          consumedPerSecond: Math.max(0, p.committed - old.committed) / seconds,
        };
      });
    const consumed = rows.reduce((n, r) => n + r.consumedPerSecond, 0);
    groupConsumed += consumed;
    return { topic, rows, consumed };
  });
  const perProcessor = members > 0 && groupConsumed > 0 ? groupConsumed / members : null;
  return topics
    .map(({ topic, rows, consumed }): TenantLag => {
      const lag = rows.reduce((n, r) => n + r.lag, 0);
      const produced = rows.reduce((n, r) => n + r.producedPerSecond, 0);
      const net = consumed - produced;
      const drainSeconds = lag === 0 ? 0 : net > 0 ? lag / net : null;
      const needed = produced + lag / targetSeconds;
      const processorsForTarget = perProcessor === null ? null : Math.min(rows.length, Math.max(1, Math.ceil(needed / perProcessor)));
      return { tenant: tenantOfTopic(topic) ?? topic, topic, partitions: rows, lag, producedPerSecond: produced, consumedPerSecond: consumed, drainSeconds, processorsForTarget };
    })
    .sort((a, b) => b.lag - a.lag || a.tenant.localeCompare(b.tenant));
}
