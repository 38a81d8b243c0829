import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { TRAFFIC_TOPIC, TrafficRecorder, type TrafficOutcome } from '@tributary/kafka';

export interface TrafficPublisherOptions {
  readonly producer: Producer;
  /** This processor instance's name in the records' keys. */
  readonly instance: string;
  /** How often changed counts are published, ms; default 10 000. */
  readonly intervalMs?: number;
  readonly logger: Logger;
}

/**
 * Counts the processor's settled records per tenant and pipeline and publishes them to
 * `tributary.traffic` (what the console shows as a pipeline's last hour). Losing a publish
 * loses nothing of the logs and only delays the figures: a key that failed goes again with the next, carrying its whole hour.
 */
export class TrafficPublisher {
  private readonly recorder: TrafficRecorder;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> | undefined;

  constructor(private readonly options: TrafficPublisherOptions) {
    this.recorder = new TrafficRecorder(options.instance);
  }

  count(tenant: string, pipeline: string | null, outcome: TrafficOutcome): void {
    this.recorder.count(tenant, pipeline, outcome);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.publish(), this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Publishes what is left; the producer must still be connected. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.publishing;
    await this.publish();
  }

  private publish(): Promise<void> {
    // One at a time: a slow broker must not pile up sends of the same keys.
    if (this.publishing) return this.publishing;
    const messages = this.recorder.drain();
    if (messages.length === 0) return Promise.resolve();
    this.publishing = this.options.producer
      .send({ topic: TRAFFIC_TOPIC, acks: -1, messages })
      .then(() => undefined)
      .catch((err: unknown) => {
        this.recorder.retry(messages.map((m) => String(m.key)));
        this.options.logger.warn({ err, records: messages.length }, 'could not publish pipeline traffic: the figures are late until the next publish');
      })
      .finally(() => (this.publishing = undefined));
    return this.publishing;
  }
}
