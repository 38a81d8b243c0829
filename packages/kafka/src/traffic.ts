import type { Message } from 'kafkajs';

/**
 * `compact,delete`: key `<tenant>/<pipeline>@<processor>`, value = that processor's counts of
 * the pipeline's records over the last hour, by minute (`TrafficRecord`). Each processor
 * republishes a key whenever its counts change, so the latest record of every key is all a
 * reader needs; keys of processors gone for longer than the retention disappear.
 */
export const TRAFFIC_TOPIC = 'tributary.traffic';
/** How far back a traffic record reaches, and what a reader sums: the console's "last hour". */
export const TRAFFIC_WINDOW_MS = 3_600_000;
/** The width of one bucket. */
export const TRAFFIC_BUCKET_MS = 60_000;
/** How long the topic keeps a key nobody republishes: twice the window. */
export const TRAFFIC_RETENTION_MS = 2 * TRAFFIC_WINDOW_MS;

/** What became of a pipeline's records: every record settled counts once in `in` and once in one of the others. */
export interface TrafficCounts {
  in: number;
  /** Stored in Elasticsearch (duplicates of stored documents included). */
  indexed: number;
  /** Dropped by a filter. */
  dropped: number;
  /** Written to dlq.<tenant>. */
  deadLettered: number;
}

/** A settled record's outcome, as the processor names it. */
export type TrafficOutcome = 'indexed' | 'duplicate' | 'dropped' | 'dead_lettered';

export interface TrafficBucket extends TrafficCounts {
  /** The bucket's start, ms since the epoch, a multiple of TRAFFIC_BUCKET_MS. */
  readonly start: number;
}

/** The value of a `tributary.traffic` record. */
export interface TrafficRecord {
  readonly tenant: string;
  /** The pipeline in force for the records; null for records no pipeline saw (undecodable). */
  readonly pipeline: string | null;
  readonly processor: string;
  /** Oldest first, only buckets with records, none older than TRAFFIC_WINDOW_MS when written. */
  readonly buckets: readonly TrafficBucket[];
}

const zero = (): TrafficCounts => ({ in: 0, indexed: 0, dropped: 0, deadLettered: 0 });

function add(into: TrafficCounts, from: TrafficCounts): void {
  into.in += from.in;
  into.indexed += from.indexed;
  into.dropped += from.dropped;
  into.deadLettered += from.deadLettered;
}

/** The key of a processor's traffic record for one pipeline. */
export function trafficKey(tenant: string, pipeline: string | null, processor: string): string {
  return `${tenant}/${pipeline ?? ''}@${processor}`;
}

/**
 * One processor's counts by tenant, pipeline and minute, kept for the last hour; `drain()`
 * gives the records to publish for what changed since the last drain. Pure: the caller
 * supplies the clock and does the producing.
 */
export class TrafficRecorder {
  private readonly series = new Map<string, { tenant: string; pipeline: string | null; buckets: Map<number, TrafficCounts> }>();
  private readonly changed = new Set<string>();

  constructor(private readonly processor: string) {}

  count(tenant: string, pipeline: string | null, outcome: TrafficOutcome, now = Date.now()): void {
    const key = trafficKey(tenant, pipeline, this.processor);
    let entry = this.series.get(key);
    if (!entry) this.series.set(key, (entry = { tenant, pipeline, buckets: new Map() }));
    const start = now - (now % TRAFFIC_BUCKET_MS);
    let bucket = entry.buckets.get(start);
    if (!bucket) entry.buckets.set(start, (bucket = zero()));
    bucket.in++;
    if (outcome === 'indexed' || outcome === 'duplicate') bucket.indexed++;
    else if (outcome === 'dropped') bucket.dropped++;
    else bucket.deadLettered++;
    this.changed.add(key);
  }

  /** Keys whose records did not reach the topic: the next drain gives them again (with their counts then). */
  retry(keys: Iterable<string>): void {
    for (const key of keys) if (this.series.has(key)) this.changed.add(key);
  }

  /** Records for every key counted since the last drain, and forgets buckets that left the window. */
  drain(now = Date.now()): Message[] {
    const oldest = now - TRAFFIC_WINDOW_MS;
    const messages: Message[] = [];
    for (const key of this.changed) {
      const entry = this.series.get(key);
      if (!entry) continue;
      for (const start of entry.buckets.keys()) if (start + TRAFFIC_BUCKET_MS <= oldest) entry.buckets.delete(start);
      const buckets = [...entry.buckets].sort(([a], [b]) => a - b).map(([start, counts]) => ({ start, ...counts }));
      const record: TrafficRecord = { tenant: entry.tenant, pipeline: entry.pipeline, processor: this.processor, buckets };
      messages.push({ key, value: JSON.stringify(record) });
    }
    this.changed.clear();
    // Keys without a record for an hour: nothing of them is left to publish.
    for (const [key, entry] of this.series) {
      for (const start of entry.buckets.keys()) if (start + TRAFFIC_BUCKET_MS <= oldest) entry.buckets.delete(start);
      if (entry.buckets.size === 0) this.series.delete(key);
    }
    return messages;
  }
}

/** A traffic record's value, checked; undefined for anything else. */
export function parseTrafficRecord(value: Buffer | string): TrafficRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const r = parsed as Record<string, unknown>;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof r['tenant'] !== 'string' || !(r['pipeline'] === null || typeof r['pipeline'] === 'string') || typeof r['processor'] !== 'string' || !Array.isArray(r['buckets'])) return undefined;
  const buckets: TrafficBucket[] = [];
  for (const b of r['buckets'] as unknown[]) {
    if (typeof b !== 'object' || b === null) return undefined;
    const { start, in: records, indexed, dropped, deadLettered } = b as Record<string, unknown>;
    if (!count(start) || !count(records) || !count(indexed) || !count(dropped) || !count(deadLettered)) return undefined;
    buckets.push({ start, in: records, indexed, dropped, deadLettered });
  }
  return { tenant: r['tenant'], pipeline: r['pipeline'] as string | null, processor: r['processor'], buckets };
}

/**
 * The latest traffic record of every key, as a reader of `tributary.traffic` sees them, and
 * the sums over the last hour. Records whose newest bucket left the window are forgotten,
 * so processors that came and went don't accumulate.
 */
export class TrafficBook {
  private readonly latest = new Map<string, TrafficRecord>();

  /** A record of the topic; false when its value is not a traffic record (ignored). */
  update(key: string, value: Buffer | null): boolean {
    if (value === null) {
      this.latest.delete(key);
      return true;
    }
    const record = parseTrafficRecord(value);
    if (!record) return false;
    this.latest.set(key, record);
    return true;
  }

  /** Per pipeline of the tenant (`''` for records no pipeline saw), its counts over the window ending `now`. */
  lastHour(tenant: string, now = Date.now()): Map<string, TrafficCounts> {
    return this.sum(now, (record) => (record.tenant === tenant ? (record.pipeline ?? '') : undefined));
  }

  /** Every tenant's totals over the window (the admin's glance). */
  tenants(now = Date.now()): Map<string, TrafficCounts> {
    return this.sum(now, (record) => record.tenant);
  }

  /** Sums the buckets inside the window by `group` (undefined: left out), in one pass. */
  private sum(now: number, group: (record: TrafficRecord) => string | undefined): Map<string, TrafficCounts> {
    const oldest = now - TRAFFIC_WINDOW_MS;
    const sums = new Map<string, TrafficCounts>();
    for (const [key, record] of this.latest) {
      const newest = record.buckets.at(-1);
      if (!newest || newest.start + TRAFFIC_BUCKET_MS <= oldest) {
        this.latest.delete(key);
        continue;
      }
      const name = group(record);
      if (name === undefined) continue;
      let sum = sums.get(name);
      if (!sum) sums.set(name, (sum = zero()));
      // A bucket partly inside the window counts whole: minutes are the resolution.
      for (const bucket of record.buckets) if (bucket.start + TRAFFIC_BUCKET_MS > oldest) add(sum, bucket);
    }
    return sums;
  }
}
