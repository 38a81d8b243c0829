import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TrafficOutcome } from '@tributary/kafka';
import type { PipelineChange } from '@tributary/pipeline';

/** Where a record ended: its `outcome` label on `tributary_processor_records_out_total`, and what `tributary.traffic` counts. */
export type RecordOutcome = TrafficOutcome;

/** What a retry waited for: a record the schema registry couldn't decode yet, an Elasticsearch bulk, or a produce to dlq.<tenant>. */
export type RetryKind = 'decode' | 'bulk' | 'dead_letter';

/** Bulk request latency, seconds: 5 ms … 30 s (the request timeout). */
export const BULK_SECONDS_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);

/**
 * Every metric of the processor, in one place. No global registry: one per instance.
 * Labels hold tenant, pipeline, topic and partition names and fixed words only: never a
 * record's contents, a reason text or a token.
 */
export class ProcessorMetrics {
  readonly registry = new Registry();
  readonly recordsIn = new Counter({
    name: 'tributary_processor_records_in_total',
    help: 'Records fetched from logs.<tenant> for processing (a batch abandoned and fetched again counts again)',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly recordsOut = new Counter({
    name: 'tributary_processor_records_out_total',
    help: 'Records settled, by outcome: indexed, duplicate (already stored: a 409 on create), dropped (by the pipeline), dead_lettered',
    labelNames: ['tenant', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'tributary_processor_dead_letters_total',
    help: 'Records durably written to dlq.<tenant>, by class (decode, parse, schema, budget, mapping, rejected)',
    labelNames: ['tenant', 'class'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'tributary_processor_retries_total',
    help: 'Waits before another attempt: decode (the schema registry did not answer), bulk (Elasticsearch asked to retry or was unreachable), dead_letter (Kafka did not take dead letters)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly bulkSeconds = new Histogram({
    name: 'tributary_processor_bulk_duration_seconds',
    help: 'Duration of one _bulk request to Elasticsearch, failed ones included',
    buckets: [...BULK_SECONDS_BUCKETS],
    registers: [this.registry],
  });
  readonly bulkDocuments = new Histogram({
    name: 'tributary_processor_bulk_documents',
    help: 'Documents per _bulk request (documents of every partition and tenant share a request)',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
    registers: [this.registry],
  });
  readonly recordsAbandoned = new Counter({
    name: 'tributary_processor_records_abandoned_total',
    help: 'Records given up uncommitted because their partition was revoked or the processor was stopping: fetched again by the partition\'s next owner',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly pausedPartitions = new Gauge({
    name: 'tributary_processor_paused_partitions',
    help: 'Partitions not fetched because they, or their tenant, hold as many bytes in flight as they may (backpressure)',
    registers: [this.registry],
  });
  readonly inFlightBytes = new Gauge({
    name: 'tributary_processor_in_flight_bytes',
    help: 'Bytes of records fetched and not yet settled or abandoned (record values and their documents)',
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'tributary_processor_consumer_lag',
    help: 'Records between the high watermark (as of the last fetch) and the committed offset, per assigned partition: what a restart would have to process again or still has to process',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly waitingPartitions = new Gauge({
    name: 'tributary_processor_waiting_partitions',
    help: 'Partitions whose batch waits: the process holds all the bytes in flight it may, or the schema registry does not answer (fetching waits too)',
    registers: [this.registry],
  });
  readonly inFlightRecords = new Gauge({
    name: 'tributary_processor_in_flight_records',
    help: 'Records fetched and not yet settled or abandoned',
    registers: [this.registry],
  });
  readonly pipelineVersion = new Gauge({
    name: 'tributary_processor_pipeline_version',
    help: 'Version of each pipeline in force in this instance',
    labelNames: ['tenant', 'pipeline'] as const,
    registers: [this.registry],
  });
  readonly pipelineReloads = new Counter({
    name: 'tributary_processor_pipeline_reloads_total',
    help: 'Records of tributary.pipelines taken in, the initial load included: applied (a new version in force), deleted, rejected (the last good version stays)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** The `topic/partition` label pairs the lag gauge holds, to forget revoked ones. */
  private readonly lagSeries = new Map<string, { topic: string; partition: string }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_processor_' });
  }

  /** Follows a `PipelineRegistry.onChange` change: the version in force, or none once deleted. */
  pipelineChanged(change: PipelineChange): void {
    const labels = { tenant: change.tenant, pipeline: change.name };
    if (change.version === null) {
      this.pipelineVersion.remove(labels);
      this.pipelineReloads.inc({ outcome: 'deleted' });
    } else {
      this.pipelineVersion.set(labels, change.version);
      this.pipelineReloads.inc({ outcome: 'applied' });
    }
  }

  /** A pipeline record the registry refused (it keeps the last good version). */
  pipelineRejected(): void {
    this.pipelineReloads.inc({ outcome: 'rejected' });
  }

  /** Sets the lag of one partition; negative or unparsable values (an empty partition) read as 0. */
  setLag(topic: string, partition: number, lag: bigint | string | number): void {
    let value: number;
    try {
      value = Number(BigInt(lag));
    } catch {
      value = 0;
    }
    const labels = { topic, partition: String(partition) };
    this.lagSeries.set(`${topic}\u0000${partition}`, labels);
    this.consumerLag.set(labels, Math.max(0, value));
  }

  /**
   * Keeps the lag of the partitions this member is assigned (a group join's
   * `memberAssignment`, topic → partitions) and forgets the rest, so a revoked partition's
   * last lag doesn't linger; no argument forgets every partition.
   */
  retainPartitions(assignment: Readonly<Record<string, readonly number[]>> = {}): void {
    for (const [key, labels] of this.lagSeries) {
      if (assignment[labels.topic]?.includes(Number(labels.partition))) continue;
      this.consumerLag.remove(labels);
      this.lagSeries.delete(key);
    }
  }
}

