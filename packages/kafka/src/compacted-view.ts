import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export interface CompactedTopicViewOptions {
  readonly kafka: Kafka;
  /** A compacted topic whose keys are strings: `tributary.pipelines`, `tributary.status`. */
  readonly topic: string;
  readonly logger: Logger;
  /** Called for every record in offset order per partition; `null` is a tombstone (key deleted). */
  readonly onChange: (key: string, value: Buffer | null) => void;
}

/**
 * Follows a compacted topic from its beginning and keeps the latest value of every key:
 * the control plane's and the processors' view of `tributary.pipelines`.
 *
 * It reads with a throwaway consumer group that never commits, so every instance (and
 * every restart) replays the whole topic, which is what a compacted topic is for; a
 * committed position would make a restarted instance miss the state before it.
 */
export class CompactedTopicView {
  private readonly latest = new Map<string, Buffer>();
  private readonly log: Logger;
  /** Partitions not yet read up to the end offset they had when start() was called. */
  private readonly behind = new Map<number, bigint>();
  private readonly caughtUpSignal = deferred();
  private isCaughtUp = false;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private opening: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: CompactedTopicViewOptions) {
    this.log = options.logger.child({ component: 'compacted-topic-view', topic: options.topic });
  }

  /** Whether every record that existed when start() was called has gone through onChange. */
  get caughtUp(): boolean {
    return this.isCaughtUp;
  }

  /** A snapshot of the latest value of every key; tombstoned keys are absent. */
  entries(): ReadonlyMap<string, Buffer> {
    return new Map(this.latest);
  }

  /** Resolves once the view holds everything the topic held when it was called; a second call shares the first. */
  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error(`view of ${this.options.topic} is stopped; create a new one`));
    if (!this.starting) {
      const opening = this.open();
      this.opening = opening;
      // A failed start releases what it connected, so the caller has nothing to clean up.
      this.starting = opening.catch(async (err: unknown) => {
        await this.stop();
        throw err;
      });
    }
    return this.starting;
  }

  /** Disconnects everything; safe before start, twice, and concurrently. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async open(): Promise<void> {
    const { kafka, topic } = this.options;
    const admin = kafka.admin();
    this.admin = admin;
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    this.admin = undefined;
    this.throwIfStopped();
    for (const { partition, high, low } of ends) {
      // An empty partition has nothing to catch up with.
      if (BigInt(high) > BigInt(low)) this.behind.set(partition, BigInt(high));
    }
    this.markIfCaughtUp();

    const groupId = `tributary-view-${randomBytes(6).toString('hex')}`;
    // maxWaitTimeInMs bounds how long stop() waits for an in-flight fetch.
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 1000 });
    this.consumer = consumer;
    // Batches emptied by filtering (control records) never reach eachBatch but do end here,
    // so catch-up is tracked on this event rather than on the messages seen.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => this.reached(payload.partition, payload.lastOffset));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.log.error({ err: payload.error, restart: payload.restart }, 'compacted topic view consumer crashed');
      if (!payload.restart) this.caughtUpSignal.reject(payload.error);
    });
    await consumer.connect();
    this.throwIfStopped();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: async (batch) => this.apply(batch) });
    this.log.debug({ groupId, partitions: ends.length, behind: this.behind.size }, 'compacted topic view started');
    await this.caughtUpSignal.promise;
  }

  private async apply({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (message.key === null) {
        // Compaction needs keys; a keyless record can't be part of the state.
        this.log.warn({ partition: batch.partition, offset: message.offset }, 'record without key in compacted topic ignored');
        continue;
      }
      const key = message.key.toString('utf8');
      const value = message.value;
      if (value === null) this.latest.delete(key);
      else this.latest.set(key, value);
      try {
        this.options.onChange(key, value);
      } catch (err) {
        // One bad value (or a listener's bug) must not stop every later change from arriving.
        this.log.error({ err, key, partition: batch.partition, offset: message.offset }, 'compacted topic view listener failed on a record');
      }
    }
  }

  private reached(partition: number, lastOffset: string): void {
    const end = this.behind.get(partition);
    if (end === undefined || BigInt(lastOffset) + 1n < end) return;
    this.behind.delete(partition);
    this.markIfCaughtUp();
  }

  private markIfCaughtUp(): void {
    if (this.isCaughtUp || this.behind.size > 0) return;
    this.isCaughtUp = true;
    this.caughtUpSignal.resolve();
  }

  private throwIfStopped(): void {
    if (this.stopping) throw new Error(`view of ${this.options.topic} stopped while starting`);
  }

  private async close(): Promise<void> {
    this.caughtUpSignal.reject(new Error(`view of ${this.options.topic} stopped before it caught up`));
    // open() gives up at its next step; wait for it so nothing connects after we disconnect.
    await this.opening?.catch(() => undefined);
    const results = await Promise.allSettled([this.consumer?.disconnect(), this.admin?.disconnect()]);
    for (const result of results) {
      if (result.status === 'rejected') this.log.warn({ err: result.reason }, 'compacted topic view disconnect failed');
    }
    this.consumer = undefined;
    this.admin = undefined;
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Rejected by stop() even when nobody waits for it; that must not be an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
