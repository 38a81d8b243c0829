import type { Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { retryDelay } from '@tributary/retry';
import type { DeadLetterClass } from '@tributary/kafka';
import type { ProcessorMetrics } from './metrics.js';

export interface DeadLetter {
  readonly tenant: string;
  /** `dlq.<tenant>`. */
  readonly topic: string;
  readonly class: DeadLetterClass;
  readonly message: Message;
  /** Read before every attempt: false once the record's partition is gone or the processor stops. */
  readonly active: () => boolean;
  /** Called exactly once: true when durable (acks=all), false when abandoned. */
  readonly done: (durable: boolean) => void;
}

export interface DeadLetterSenderOptions {
  /** Idempotent; one request in flight, so letters of one partition stay in order. */
  readonly producer: Producer;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly logger: Logger;
  readonly metrics?: ProcessorMetrics | undefined;
  /** Most letters per produce request; default 500. */
  readonly maxBatch?: number;
  /**
   * Called when producing to `topic` failed, before its letters are retried: e.g. to create
   * a `dlq.<tenant>` that doesn't exist (a logs topic created by someone other than the
   * control plane). Its own failure is logged and retried with the letters.
   */
  readonly onFailure?: (topic: string, error: unknown) => Promise<void>;
}

/**
 * Produces dead letters in batches (everything queued since the last request went out),
 * acks=all, retrying with backoff until Kafka takes them or they are no longer wanted. A
 * storm of failures is a few large requests, not one per record. Each topic is produced
 * and retried on its own: one tenant's missing or refusing `dlq.<tenant>` never holds
 * back another tenant's dead letters.
 */
export class DeadLetterSender {
  private queue: DeadLetter[] = [];
  private sending = false;
  /** Consecutive failures and when to try again, per topic. */
  private readonly failing = new Map<string, { failures: number; retryAt: number }>();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeadLetterSenderOptions) {}

  get pending(): number {
    return this.queue.length + (this.sending ? 1 : 0);
  }

  send(letter: DeadLetter): void {
    if (this.stopped) {
      letter.done(false);
      return;
    }
    this.queue.push(letter);
    // Let the rest of the current batch's letters join this request.
    if (!this.sending && !this.timer) this.timer = setTimeout(() => this.flush(), 0);
  }

  /** Abandons what is queued; a request in flight finishes on its own. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const letter of this.queue.splice(0)) letter.done(false);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.sending || this.stopped) return;
    const now = Date.now();
    const byTopic = new Map<string, DeadLetter[]>();
    const kept: DeadLetter[] = [];
    let taken = 0;
    for (const letter of this.queue) {
      if (!letter.active()) {
        letter.done(false);
        continue;
      }
      const backoff = this.failing.get(letter.topic);
      if ((backoff && backoff.retryAt > now) || taken >= (this.options.maxBatch ?? 500)) {
        kept.push(letter);
        continue;
      }
      const letters = byTopic.get(letter.topic);
      if (letters) letters.push(letter);
      else byTopic.set(letter.topic, [letter]);
      taken++;
    }
    this.queue = kept;
    if (byTopic.size === 0) return this.wakeForRetry();
    this.sending = true;
    void Promise.all([...byTopic].map(([topic, letters]) => this.produce(topic, letters))).finally(() => {
      this.sending = false;
      if (this.queue.length > 0 && !this.timer && !this.stopped) this.timer = setTimeout(() => this.flush(), 0);
    });
  }

  /** Nothing sendable now: come back when the first topic's backoff ends. */
  private wakeForRetry(): void {
    if (this.queue.length === 0 || this.timer || this.stopped) return;
    const next = Math.min(...this.queue.map((letter) => this.failing.get(letter.topic)?.retryAt ?? 0));
    this.timer = setTimeout(() => this.flush(), Math.max(0, next - Date.now()));
  }

  private async produce(topic: string, batch: DeadLetter[]): Promise<void> {
    try {
      await this.options.producer.send({ topic, acks: -1, messages: batch.map((letter) => letter.message) });
    } catch (err) {
      const failures = (this.failing.get(topic)?.failures ?? 0) + 1;
      const delayMs = retryDelay(failures, this.options.backoff);
      this.failing.set(topic, { failures, retryAt: Date.now() + delayMs });
      this.options.metrics?.retries.inc({ kind: 'dead_letter' });
      this.options.logger.warn({ err, topic, letters: batch.length, consecutiveFailures: failures, delayMs }, 'could not produce dead letters: retrying');
      await this.options.onFailure?.(topic, err).catch((hookError: unknown) => this.options.logger.warn({ err: hookError, topic }, 'could not repair the dead-letter topic'));
      // Back to the front: they go first next time.
      this.queue = [...batch, ...this.queue];
      return;
    }
    this.failing.delete(topic);
    for (const letter of batch) {
      this.options.metrics?.deadLetters.inc({ tenant: letter.tenant, class: letter.class });
      letter.done(true);
    }
  }
}
