import type { Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { retryDelay } from '@tributary/elasticsearch';
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
}

/**
 * Produces dead letters in batches (everything queued since the last request went out),
 * acks=all, retrying with backoff until Kafka takes them or they are no longer wanted. A
 * storm of failures is a few large requests, not one per record.
 */
export class DeadLetterSender {
  private queue: DeadLetter[] = [];
  private sending = false;
  private failures = 0;
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
    const batch: DeadLetter[] = [];
    const kept: DeadLetter[] = [];
    for (const letter of this.queue) {
      if (!letter.active()) letter.done(false);
      else if (batch.length < (this.options.maxBatch ?? 500)) batch.push(letter);
      else kept.push(letter);
    }
    this.queue = kept;
    if (batch.length === 0) return;
    this.sending = true;
    void this.produce(batch).finally(() => {
      this.sending = false;
      if (this.queue.length > 0 && !this.timer && !this.stopped) this.timer = setTimeout(() => this.flush(), this.failures > 0 ? retryDelay(this.failures, this.options.backoff) : 0);
    });
  }

  private async produce(batch: DeadLetter[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const letter of batch) {
      const messages = byTopic.get(letter.topic);
      if (messages) messages.push(letter.message);
      else byTopic.set(letter.topic, [letter.message]);
    }
    try {
      await this.options.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    } catch (err) {
      this.failures++;
      this.options.metrics?.retries.inc({ kind: 'dead_letter' });
      this.options.logger.warn({ err, letters: batch.length, topics: [...byTopic.keys()], consecutiveFailures: this.failures }, 'could not produce dead letters: retrying');
      // Back to the front: they go first next time.
      this.queue = [...batch, ...this.queue];
      return;
    }
    this.failures = 0;
    for (const letter of batch) {
      this.options.metrics?.deadLetters.inc({ tenant: letter.tenant, class: letter.class });
      letter.done(true);
    }
  }
}
