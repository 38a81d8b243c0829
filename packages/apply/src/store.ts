import type { Client } from '@elastic/elasticsearch';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { CompactedTopicView, ensureTopics, Partitioners, PIPELINES_TOPIC, platformTopics, STATUS_TOPIC, type TenantTopicOptions } from '@tributary/kafka';
import { AddressPolicy } from '@tributary/notify';
import { ManifestValidator, PipelineRegistry } from '@tributary/pipeline';
import type { ApplyDeps } from './apply.js';
import { destinationChecker } from './destination.js';
import { StatusBook } from './status.js';

export interface PipelineStoreOptions {
  readonly kafka: Kafka;
  readonly elasticsearch: Client;
  /** Partitions and retention of the topics created for a tenant on its first apply. */
  readonly topics: TenantTopicOptions;
  /** Addresses inside the cluster that dead-letter webhooks may point at. */
  readonly notifyAllow?: readonly string[];
  readonly logger: Logger;
  /** Told of every publish that failed (a metric). */
  readonly onPublishFailure?: (topic: string) => void;
}

/**
 * The pipelines in force and their last results, followed from `tributary.pipelines` and
 * `tributary.status`, and the apply chain's dependencies wired to them. The control plane
 * and the operator each hold one; since all state is in the compacted topics, any number of
 * them, of either kind, see the same pipelines.
 */
export class PipelineStore {
  readonly registry = new PipelineRegistry();
  readonly statuses = new StatusBook();
  readonly deps: ApplyDeps;
  /** Its Kafka clients, connected by start() and shared with whatever else the service writes (dead-letter replays). */
  readonly admin: Admin;
  readonly producer: Producer;
  private readonly views: CompactedTopicView[];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: PipelineStoreOptions) {
    const logger = options.logger.child({ component: 'pipeline-store' });
    this.admin = options.kafka.admin();
    // Idempotent with one request in flight: pipeline versions must land in the order they were made.
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    this.deps = {
      registry: this.registry,
      statuses: this.statuses,
      validator: new ManifestValidator(),
      checkDestination: destinationChecker({
        elasticsearch: options.elasticsearch,
        admin: this.admin,
        topics: options.topics,
        notify: new AddressPolicy(options.notifyAllow ?? []),
      }),
      publishPipeline: (key, value) => this.publish(PIPELINES_TOPIC, key, value),
      publishStatus: async (key, status) => {
        const value = JSON.stringify(status);
        await this.publish(STATUS_TOPIC, key, value);
        // Read-your-writes: the status view catches up a moment later with the same record.
        this.statuses.update(key, value);
      },
      now: () => new Date(),
    };
    this.views = [
      new CompactedTopicView({
        kafka: options.kafka,
        topic: PIPELINES_TOPIC,
        logger,
        onChange: (key, value) => {
          const result = this.registry.update(key, value);
          if (!result.ok) logger.warn({ key, reason: result.reason }, 'ignored a pipeline record');
        },
      }),
      new CompactedTopicView({
        kafka: options.kafka,
        topic: STATUS_TOPIC,
        logger,
        onChange: (key, value) => {
          if (!this.statuses.update(key, value)) logger.warn({ key }, 'ignored a malformed status record');
        },
      }),
    ];
  }

  /** Connects, creates the platform topics if missing, and resolves once both topics are read up to where they were. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      await this.admin.connect();
      await ensureTopics(this.admin, platformTopics());
      await this.producer.connect();
      await Promise.all(this.views.map((view) => view.start()));
    })();
    return this.starting;
  }

  /** Whether both views have caught up. */
  get loaded(): boolean {
    return this.views.every((view) => view.caughtUp);
  }

  /** Safe before start, twice, and after a failed start. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await Promise.all(this.views.map((view) => view.stop()));
      await this.producer.disconnect();
      await this.admin.disconnect();
    })();
    return this.stopping;
  }

  private async publish(topic: string, key: string, value: string | null): Promise<void> {
    try {
      await this.producer.send({ topic, acks: -1, messages: [{ key, value }] });
    } catch (err) {
      this.options.onPublishFailure?.(topic);
      throw err;
    }
  }
}
