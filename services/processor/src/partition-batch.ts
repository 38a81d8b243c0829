import type { Client } from '@elastic/elasticsearch';
import type { Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { bulkWrite, retry, type BulkItem } from '@tributary/elasticsearch';
import { deadLetterMessage } from '@tributary/kafka';
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
  const counts = { indexed: 0, dropped: 0, deadLettered: 0, retries: 0 };
  const handled: Array<{ record: SourceRecord; result: Handled }> = [];
  for (const record of records) {
    const result = await untilSettled(deps, counts, { topic: record.topic, partition: record.partition, offset: record.offset }, async () => {
      const handled = await deps.handler.handle(record);
      // The record is fine; something it needs (the schema registry) is not: wait, don't dead-letter.
      if (handled.kind === 'retry') throw new Error(handled.reason);
      return handled;
    });
    if (result === ABANDONED) return { acknowledged: false, ...counts };
    handled.push({ record, result });
  }

  const deadLetters: Array<{ topic: string; message: Message }> = [];
  const writes: Array<{ record: SourceRecord; item: BulkItem; tenant: string; pipeline: string; version: number }> = [];
  for (const { record, result } of handled) {
    if (result.kind === 'index') writes.push({ record, item: { index: result.index, id: result.id, body: result.body, op: result.op }, tenant: result.tenant, pipeline: result.pipeline, version: result.version });
    else if (result.kind === 'deadLetter') deadLetters.push({ topic: result.topic, message: result.message });
    else if (result.kind === 'drop') counts.dropped++;
  }

  let pending = writes;
  const written = await untilSettled(deps, counts, { documents: writes.length }, async () => {
    const results = await bulkWrite(deps.elasticsearch, pending.map((w) => w.item));
    const again: typeof pending = [];
    results.forEach((result, i) => {
      const write = pending[i];
      if (!write) return;
      if (result.status === 'stored') counts.indexed++;
      else if (result.status === 'retry') again.push(write);
      else deadLetters.push({ topic: `dlq.${write.tenant}`, message: refused(write, result.class, result.reason, deps) });
    });
    pending = again;
    // Only what Elasticsearch asked to retry goes again; what it took or refused is settled.
    if (again.length > 0) throw new Error(`Elasticsearch asked to retry ${again.length} documents: ${results.find((r) => r.status === 'retry')?.reason ?? ''}`);
  });
  if (written === ABANDONED) return { acknowledged: false, ...counts };

  if (deadLetters.length > 0) {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of deadLetters) byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
    // acks=all on an idempotent producer: once this resolves the dead letters are durable.
    await deps.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    counts.deadLettered += deadLetters.length;
  }
  return { acknowledged: true, ...counts };
}

const ABANDONED = Symbol('abandoned');

/**
 * Runs `attempt` until it succeeds, with the one retry helper's backoff, for as long as the
 * partition is ours: waits heartbeat, so the group keeps us, and end early when it isn't.
 */
async function untilSettled<T>(deps: BatchDeps, counts: { retries: number }, context: Record<string, unknown>, attempt: () => Promise<T>): Promise<T | typeof ABANDONED> {
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
  while (Date.now() < until && deps.active()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
    await deps.heartbeat().catch(() => undefined);
  }
}

/** The dead letter of a document Elasticsearch refused. */
function refused(write: { record: SourceRecord; tenant: string; pipeline: string; version: number }, cls: 'mapping' | 'request', reason: string, deps: BatchDeps): Message {
  return deadLetterMessage(
    { key: write.record.key, value: write.record.value, headers: write.record.headers },
    {
      // Refused by the index's mapping, or a request Elasticsearch can never take (an _id too long).
      class: cls === 'mapping' ? 'mapping' : 'rejected',
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
