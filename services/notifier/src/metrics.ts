import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** From a window's close to its notification's settlement, seconds: 10 ms … 30 min (retries included). */
export const DELIVERY_SECONDS_BUCKETS: readonly number[] = Object.freeze([0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800]);

/**
 * Every metric of the notifier, one registry per instance. Labels hold tenant, pipeline,
 * class and channel names and fixed words only, never a URL (a Slack hook's path is its
 * secret) or a reason text.
 */
export class NotifierMetrics {
  readonly registry = new Registry();
  readonly deadLetters = new Counter({
    name: 'tributary_notifier_dead_letters_total',
    help: 'Dead letters read from dlq.<tenant>, by pipeline ("" when the record never reached one) and class',
    labelNames: ['tenant', 'pipeline', 'class'] as const,
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'tributary_notifier_notifications_total',
    help: 'Notifications settled, by channel and outcome: sent, failed (not retriable, or retried for the whole period), suppressed (the subscription\'s queue was full)',
    labelNames: ['tenant', 'channel', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'tributary_notifier_delivery_retries_total',
    help: 'Delivery attempts that failed and will be tried again (429, 5xx, timeouts, no connection)',
    labelNames: ['tenant', 'channel'] as const,
    registers: [this.registry],
  });
  readonly deliverySeconds = new Histogram({
    name: 'tributary_notifier_delivery_seconds',
    help: 'From the close of a notification\'s window to its delivery or definitive failure, retries included',
    labelNames: ['channel'] as const,
    buckets: [...DELIVERY_SECONDS_BUCKETS],
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'tributary_notifier_consumer_lag',
    help: 'Dead letters in dlq.<tenant> not yet read by this notifier, per partition',
    labelNames: ['tenant', 'partition'] as const,
    registers: [this.registry],
  });
  readonly queued = new Gauge({
    name: 'tributary_notifier_queued_notifications',
    help: 'Notifications waiting for or in delivery, per tenant',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly pendingDeadLetters = new Gauge({
    name: 'tributary_notifier_pending_dead_letters',
    help: 'Dead letters in windows not yet closed, per tenant',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({
    name: 'tributary_notifier_subscriptions',
    help: 'Dead-letter subscriptions in force, per tenant',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly notDeadLetters = new Counter({
    name: 'tributary_notifier_foreign_records_total',
    help: 'Records in dlq.<tenant> without the dead-letter headers (written by something other than the processor): skipped',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_notifier_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
