import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric of the operator, one registry per instance. Labels hold fixed words only. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'tributary_operator_reconciles_total',
    help: 'Reconciles by outcome: created, updated, unchanged (nothing to publish), rejected (status says why), deleted (tombstone published), error (retried with backoff)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'tributary_operator_reconcile_duration_seconds',
    help: 'One reconcile, from taking the key to the status written',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  /** Where the gauges read from; set once the queue and the watch exist. */
  private sources: { queueDepth: () => number; resources: () => number } = { queueDepth: () => 0, resources: () => 0 };
  readonly queueDepth: Gauge = new Gauge({
    name: 'tributary_operator_queue_depth',
    help: 'Resources waiting to be reconciled (now or after a backoff)',
    registers: [this.registry],
    collect: (): void => this.queueDepth.set(this.sources.queueDepth()),
  });
  readonly watchRestarts = new Counter({
    name: 'tributary_operator_watch_restarts_total',
    help: 'LoggingPipeline watches that failed (API server gone, request refused) and were started again',
    registers: [this.registry],
  });
  readonly resources: Gauge = new Gauge({
    name: 'tributary_operator_resources',
    help: 'LoggingPipeline resources the operator sees',
    registers: [this.registry],
    collect: (): void => this.resources.set(this.sources.resources()),
  });
  readonly publishFailures = new Counter({
    name: 'tributary_operator_publish_failures_total',
    help: 'Writes to tributary.pipelines or tributary.status that Kafka refused (the reconcile is retried)',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_operator_' });
  }

  observe(sources: { queueDepth: () => number; resources: () => number }): void {
    this.sources = sources;
  }
}
