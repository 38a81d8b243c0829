import type { Client } from '@elastic/elasticsearch';
import type { Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { bulkWrite, retry, type BulkItem, type BulkItemResult } from '@tributary/elasticsearch';
import { deadLetterMessage, type DeadLetterClass } from '@tributary/kafka';
import { tenantOfTopic, type ProcessorMetrics, type RecordOutcome, type RetryKind } from './metrics.js';
import type { Handled, RecordHandler, SourceRecord } from './record-handler.js';

export interface BatchDeps {
  readonly handler: RecordHandler;
  readonly elasticsearch: Client;
  readonly producer: Producer;
  readonly logger: Logger;
  /** Backoff between retries of Elasticsearch writes and of records the handler can't decode yet. */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** Called while waiting, so the group doesn't think this member is dead. */
  readonly heartbeat: () => Promise<void>;
  /** False once the partition was revoked or the processor is stopping: abandon, don't commit. */
  readonly active: () => boolean;
  readonly now?: () => Date;
  /** Where records in and out, dead letters, retries, bulk latency and waits are counted; none counts nothing. */
  readonly metrics?: ProcessorMetrics | undefined;
}

export interface BatchResult {
  /** True when every record is in Elasticsearch or the dead-letter topic: the batch may be committed. */
  readonly acknowledged: boolean;
  readonly indexed: number;
  readonly dropped: number;
  readonly deadLettered: number;
  readonly retries: number;
}

/**
 * Processes one fetched batch of one partition to the end: every record ends in
 * Elasticsearch, dropped, or in `dlq.<tenant>`. Elasticsearch being slow or down means
 * waiting with backoff (the partition's fetching waits with it: backpressure), never
 * dropping; only when the partition is taken away do we give up, uncommitted.
 */
export async function processBatch(records: readonly SourceRecord[], deps: BatchDeps): Promise<BatchResult> {
  const metrics = deps.metrics;
  if (!metrics) return settle(records, deps);
  const tenants = new Tally();
  for (const record of records) {
    const tenant = tenantOfTopic(record.topic);
    if (tenant !== undefined) tenants.add(tenant);
  }
  for (const [tenant, n] of tenants.entries()) metrics.recordsIn.inc({ tenant }, n);
  metrics.inFlightRecords.inc(records.length);
  try {
    const result = await settle(records, deps);
    if (!result.acknowledged) for (const [tenant] of tenants.entries()) metrics.batchesAbandoned.inc({ tenant });
    return result;
  } finally {
    metrics.inFlightRecords.dec(records.length);
  }
}

async function settle(records: readonly SourceRecord[], deps: BatchDeps): Promise<BatchResult> {
  const counts = { indexed: 0, dropped: 0, deadLettered: 0, retries: 0 };
  const metrics = deps.metrics;
  const handled: Array<{ record: SourceRecord; result: Handled }> = [];
  for (const record of records) {
    const result = await untilSettled(deps, counts, 'decode', { topic: record.topic, partition: record.partition, offset: record.offset }, async () => {
      const handled = await deps.handler.handle(record);
      // The record is fine; something it needs (the schema registry) is not: wait, don't dead-letter.
      if (handled.kind === 'retry') throw new Error(handled.reason);
      return handled;
    });
    if (result === ABANDONED) return { acknowledged: false, ...counts };
    handled.push({ record, result });
  }

  const deadLetters: Array<{ topic: string; message: Message; tenant: string; class: DeadLetterClass }> = [];
  const drops = new Tally();
  const writes: Array<{ record: SourceRecord; item: BulkItem; tenant: string; pipeline: string; version: number }> = [];
  for (const { record, result } of handled) {
    if (result.kind === 'index') writes.push({ record, item: { index: result.index, id: result.id, body: result.body, op: result.op }, tenant: result.tenant, pipeline: result.pipeline, version: result.version });
    else if (result.kind === 'deadLetter') deadLetters.push({ topic: result.topic, message: result.message, tenant: result.tenant, class: result.class });
    else if (result.kind === 'drop') {
      counts.dropped++;
      drops.add(result.tenant);
    }
  }

  let pending = writes;
  const written = await untilSettled(deps, counts, 'bulk', { documents: writes.length }, async () => {
    if (pending.length === 0) return;
    const timer = metrics?.bulkSeconds.startTimer();
    let results: BulkItemResult[];
    try {
      results = await bulkWrite(deps.elasticsearch, pending.map((w) => w.item));
    } finally {
      timer?.();
    }
    const again: typeof pending = [];
    const stored = new Tally();
    results.forEach((result, i) => {
      const write = pending[i];
      if (!write) return;
      if (result.status === 'stored') {
        counts.indexed++;
        stored.add(labelKey(write.tenant, result.duplicate ? 'duplicate' : 'indexed'));
      } else if (result.status === 'retry') again.push(write);
      else {
        const cls = result.class === 'mapping' ? 'mapping' : 'rejected';
        deadLetters.push({ topic: `dlq.${write.tenant}`, message: refused(write, cls, result.reason, deps), tenant: write.tenant, class: cls });
      }
    });
    // Stored is final, whatever happens to the rest of the batch.
    if (metrics) for (const [key, n] of stored.entries()) metrics.recordsOut.inc(outLabels(key), n);
    pending = again;
    // Only what Elasticsearch asked to retry goes again; what it took or refused is settled.
    if (again.length > 0) throw new Error(`Elasticsearch asked to retry ${again.length} documents: ${results.find((r) => r.status === 'retry')?.reason ?? ''}`);
  });
  if (written === ABANDONED) return { acknowledged: false, ...counts };

  // Each outcome is counted once it is final: stored ones as Elasticsearch answers (above),
  // dead letters once durable, drops once the batch is acknowledged (an abandoned batch comes back).
  const outcomes = new Tally();
  if (deadLetters.length > 0) {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of deadLetters) byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
    // acks=all on an idempotent producer: once this resolves the dead letters are durable.
    await deps.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    counts.deadLettered += deadLetters.length;
    if (metrics) {
      const classes = new Tally();
      for (const letter of deadLetters) {
        classes.add(labelKey(letter.tenant, letter.class));
        outcomes.add(labelKey(letter.tenant, 'dead_lettered'));
      }
      for (const [key, n] of classes.entries()) {
        const [tenant = '', cls = ''] = key.split(SEP);
        metrics.deadLetters.inc({ tenant, class: cls }, n);
      }
    }
  }
  if (metrics) {
    for (const [tenant, n] of drops.entries()) outcomes.add(labelKey(tenant, 'dropped'), n);
    for (const [key, n] of outcomes.entries()) metrics.recordsOut.inc(outLabels(key), n);
  }
  return { acknowledged: true, ...counts };
}

const SEP = '\u0000';

/** Counts by key (one label value, or several joined with SEP), to increment each series once per batch. */
class Tally {
  private readonly counts = new Map<string, number>();
  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}

function labelKey(...values: string[]): string {
  return values.join(SEP);
}

function outLabels(key: string): { tenant: string; outcome: RecordOutcome } {
  const [tenant = '', outcome] = key.split(SEP);
  return { tenant, outcome: outcome as RecordOutcome };
}

const ABANDONED = Symbol('abandoned');

/**
 * Runs `attempt` until it succeeds, with the one retry helper's backoff, for as long as the
 * partition is ours: waits heartbeat, so the group keeps us, and end early when it isn't.
 */
async function untilSettled<T>(deps: BatchDeps, counts: { retries: number }, kind: RetryKind, context: Record<string, unknown>, attempt: () => Promise<T>): Promise<T | typeof ABANDONED> {
  const abandoned = new AbortController();
  try {
    return await retry(
      async () => {
        if (!deps.active()) {
          abandoned.abort();
          throw new Error('partition revoked or processor stopping');
        }
        return attempt();
      },
      {
        initialMs: deps.backoff.initialMs,
        maxMs: deps.backoff.maxMs,
        signal: abandoned.signal,
        sleep: (ms) => pause(ms, deps),
        onRetry: ({ error, delayMs }) => {
          counts.retries++;
          deps.metrics?.retries.inc({ kind });
          deps.logger.warn({ ...context, reason: (error as Error).message, delayMs }, 'waiting to retry');
        },
      },
    );
  } catch (err) {
    if (abandoned.signal.aborted) return ABANDONED;
    throw err;
  }
}

/** Waits, heartbeating, and wakes early when the partition goes away. */
async function pause(ms: number, deps: BatchDeps): Promise<void> {
  const until = Date.now() + ms;
  deps.metrics?.waitingPartitions.inc();
  try {
    while (Date.now() < until && deps.active()) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
      await deps.heartbeat().catch(() => undefined);
    }
  } finally {
    deps.metrics?.waitingPartitions.dec();
  }
}

/** The dead letter of a document Elasticsearch refused. */
function refused(write: { record: SourceRecord; tenant: string; pipeline: string; version: number }, cls: 'mapping' | 'rejected', reason: string, deps: BatchDeps): Message {
  return deadLetterMessage(
    { key: write.record.key, value: write.record.value, headers: write.record.headers },
    {
      // Refused by the index's mapping, or a request Elasticsearch can never take (an _id too long).
      class: cls,
      message: reason,
      pipeline: write.pipeline,
      version: write.version,
      topic: write.record.topic,
      partition: write.record.partition,
      offset: write.record.offset,
      firstFailure: (deps.now?.() ?? new Date()).toISOString(),
    },
  );
}
