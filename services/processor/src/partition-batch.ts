import type { Client } from '@elastic/elasticsearch';
import type { Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { bulkWrite, type BulkItem } from '@tributary/elasticsearch';
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
    let result = await deps.handler.handle(record);
    let delay = deps.backoff.initialMs;
    while (result.kind === 'retry') {
      if (!deps.active()) return { acknowledged: false, ...counts };
      counts.retries++;
      deps.logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason: result.reason }, 'record waits for a dependency');
      await pause(delay, deps);
      delay = Math.min(delay * 2, deps.backoff.maxMs);
      result = await deps.handler.handle(record);
    }
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
  let delay = deps.backoff.initialMs;
  while (pending.length > 0) {
    if (!deps.active()) return { acknowledged: false, ...counts };
    const results = await bulkWrite(deps.elasticsearch, pending.map((w) => w.item));
    const again: typeof pending = [];
    results.forEach((result, i) => {
      const write = pending[i];
      if (!write) return;
      if (result.status === 'stored') counts.indexed++;
      else if (result.status === 'retry') again.push(write);
      else {
        deadLetters.push({
          topic: `dlq.${write.tenant}`,
          message: deadLetterMessage(
            { key: write.record.key, value: write.record.value, headers: write.record.headers },
            {
              // An item Elasticsearch refused (mapping) or a request it can never take (an _id too long).
              class: result.class === 'mapping' ? 'mapping' : 'rejected',
              message: result.reason,
              pipeline: write.pipeline,
              version: write.version,
              topic: write.record.topic,
              partition: write.record.partition,
              offset: write.record.offset,
              firstFailure: (deps.now?.() ?? new Date()).toISOString(),
            },
          ),
        });
      }
    });
    if (again.length > 0) {
      counts.retries++;
      deps.logger.warn({ documents: again.length, reason: results.find((r) => r.status === 'retry')?.reason }, 'Elasticsearch asked us to retry; backing off');
      await pause(delay, deps);
      delay = Math.min(delay * 2, deps.backoff.maxMs);
    }
    pending = again;
  }

  if (deadLetters.length > 0) {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of deadLetters) byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
    // acks=all on an idempotent producer: once this resolves the dead letters are durable.
    await deps.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    counts.deadLettered += deadLetters.length;
  }
  return { acknowledged: true, ...counts };
}

/** Waits with jitter, heartbeating, and wakes early when the partition goes away. */
async function pause(ms: number, deps: BatchDeps): Promise<void> {
  const until = Date.now() + ms * (0.8 + Math.random() * 0.4);
  while (Date.now() < until && deps.active()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
    await deps.heartbeat().catch(() => undefined);
  }
}
