import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Client } from '@elastic/elasticsearch';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { CompactedTopicView, createKafka, PIPELINES_TOPIC } from '@tributary/kafka';
import { PipelineRegistry } from '@tributary/pipeline';
import { processBatch } from './partition-batch.js';
import { RecordHandler, type SourceRecord } from './record-handler.js';

export interface ProcessorOptions {
  readonly brokers: readonly string[];
  readonly elasticsearchUrl: string;
  readonly schemaRegistryUrl?: string | undefined;
  /** Consumer group; every instance with the same group shares the partitions. */
  readonly groupId?: string;
  /** How often to look for new `logs.<tenant>` topics; default 10 s. */
  readonly topicRefreshMs?: number;
  /** Partitions processed at once by one instance; default 4. */
  readonly concurrency?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly logger: Logger;
}

const LOGS_TOPIC = /^logs\.[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The processor: one member of the `tributary-processor` group. It reads every
 * `logs.<tenant>` topic, runs each record through the tenant's current pipeline (hot-
 * reloaded from `tributary.pipelines`), writes Elasticsearch or `dlq.<tenant>`, and commits
 * a batch's offsets only after all of it is acknowledged.
 */
export class Processor {
  private readonly kafka: Kafka;
  private readonly elasticsearch: Client;
  private readonly registry = new PipelineRegistry();
  private readonly logger: Logger;
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private view: CompactedTopicView | undefined;
  private topics: string[] = [];
  private refresher: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private running = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ProcessorOptions) {
    this.logger = options.logger.child({ component: 'processor' });
    this.kafka = createKafka({ brokers: options.brokers, clientId: 'tributary-processor' }, this.logger);
    this.elasticsearch = createElasticsearch({ url: options.elasticsearchUrl, maxRetries: 0, requestTimeout: 30_000 });
  }

  /** The pipelines in force, as this instance sees them. */
  get pipelines(): PipelineRegistry {
    return this.registry;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.view = new CompactedTopicView({
      kafka: this.kafka,
      topic: PIPELINES_TOPIC,
      logger: this.logger,
      onChange: (key, value) => {
        const result = this.registry.update(key, value);
        if (!result.ok) this.logger.warn({ key, reason: result.reason }, 'kept the last good pipeline: a published record was invalid');
      },
    });
    await this.view.start();
    this.running = true;
    await this.subscribe(await this.logsTopics());
    // kafkajs resolves a subscription once; new tenants' topics need a new subscription.
    this.refresher = setInterval(() => {
      this.refreshing = this.refreshing.then(() => this.refreshTopics()).catch((err: unknown) => this.logger.error({ err }, 'topic refresh failed'));
    }, this.options.topicRefreshMs ?? 10_000);
    this.refresher.unref();
  }

  private async logsTopics(): Promise<string[]> {
    return (await (this.admin as Admin).listTopics()).filter((t) => LOGS_TOPIC.test(t)).sort();
  }

  private async refreshTopics(): Promise<void> {
    if (!this.running) return;
    const topics = await this.logsTopics();
    if (topics.join() === this.topics.join()) return;
    this.logger.info({ added: topics.filter((t) => !this.topics.includes(t)) }, 'new tenant topics: re-subscribing');
    // Offsets are committed per acknowledged batch, so leaving and rejoining loses nothing.
    await this.consumer?.disconnect();
    if (this.running) await this.subscribe(topics);
  }

  private async subscribe(topics: string[]): Promise<void> {
    this.topics = topics;
    if (topics.length === 0) return;
    const consumer = this.kafka.consumer({ groupId: this.options.groupId ?? 'tributary-processor', maxBytesPerPartition: 1024 * 1024 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    const schemaRegistry = this.options.schemaRegistryUrl ? new SchemaRegistry({ host: this.options.schemaRegistryUrl }) : undefined;
    const handler = new RecordHandler({ registry: this.registry, schemaRegistry });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 4,
      eachBatch: (payload) => this.eachBatch(payload, handler, consumer),
    });
  }

  private async eachBatch(payload: EachBatchPayload, handler: RecordHandler, consumer: Consumer): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const records: SourceRecord[] = batch.messages.map((m) => ({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers }));
    const log = this.logger.child({ topic: batch.topic, partition: batch.partition });
    const result = await processBatch(records, {
      handler,
      elasticsearch: this.elasticsearch,
      producer: this.producer as Producer,
      logger: log,
      backoff: this.options.backoff ?? { initialMs: 200, maxMs: 30_000 },
      heartbeat: payload.heartbeat,
      active: () => this.running && payload.isRunning() && !payload.isStale(),
    });
    if (!result.acknowledged) {
      log.info('batch abandoned uncommitted: partition revoked or stopping');
      return;
    }
    const last = batch.messages[batch.messages.length - 1]?.offset as string;
    payload.resolveOffset(last);
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }]);
    log.debug({ ...result, offset: last }, 'batch committed');
  }

  /** Stops fetching, lets the batch in progress finish or abandons it, leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      this.running = false;
      if (this.refresher) clearInterval(this.refresher);
      await this.refreshing.catch(() => undefined);
      await this.consumer?.disconnect();
      await this.view?.stop();
      await this.producer?.disconnect();
      await this.admin?.disconnect();
      await this.elasticsearch.close();
    })();
    return this.stopping;
  }
}
