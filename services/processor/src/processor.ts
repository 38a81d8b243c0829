import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Client } from '@elastic/elasticsearch';
import type { FastifyInstance } from 'fastify';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { CompactedTopicView, createKafka, ensureTopics, platformTopics, PIPELINES_TOPIC } from '@tributary/kafka';
import { PipelineRegistry } from '@tributary/pipeline';
import { createProcessorHttp, type Readiness } from './http.js';
import { ProcessorMetrics } from './metrics.js';
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
  /**
   * How long the group waits for a member that stopped heartbeating (crashed, killed) before
   * giving its partitions to the others; default 10 s. Shorter fails over faster; longer
   * tolerates longer pauses.
   */
  readonly sessionTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Port of `/healthz`, `/readyz` and `/metrics`; 0 picks a free one; undefined serves no HTTP. */
  readonly metricsPort?: number | undefined;
  /** Address the HTTP server binds; default 0.0.0.0. */
  readonly host?: string | undefined;
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
  private readonly counters = new ProcessorMetrics();
  private readonly logger: Logger;
  private http: FastifyInstance | undefined;
  private url: string | undefined;
  /** The current consumer has joined its group and not crashed, stopped or disconnected since. */
  private consumerRunning = false;
  /** doStart() got to its end: the first subscription is made. */
  private started = false;
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
    this.registry.onChange((change) => this.counters.pipelineChanged(change));
  }

  /** The pipelines in force, as this instance sees them. */
  get pipelines(): PipelineRegistry {
    return this.registry;
  }

  /** This instance's metrics (its own prom-client registry), served at `/metrics` when a port is set. */
  get metrics(): ProcessorMetrics {
    return this.counters;
  }

  /** The base URL of `/healthz`, `/readyz` and `/metrics`, once started with a `metricsPort`. */
  get metricsAddress(): string {
    if (!this.url) throw new Error(this.options.metricsPort === undefined ? 'processor started without a metricsPort' : 'processor not started');
    return this.url;
  }

  /** Ready once the pipelines in force are loaded and the consumer runs (or there is no tenant topic yet to consume). */
  readiness(): Readiness {
    if (this.stopping) return { ready: false, reason: 'stopping' };
    if (!this.view?.caughtUp) return { ready: false, reason: 'loading the pipelines in force from tributary.pipelines' };
    if (!this.started) return { ready: false, reason: 'starting' };
    if (this.topics.length > 0 && !this.consumerRunning) return { ready: false, reason: 'the consumer is not running: joining the group, re-subscribing or restarting' };
    return { ready: true };
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.options.metricsPort !== undefined) {
      // Serve first: /healthz answers and /readyz says why not while the state loads.
      this.http = createProcessorHttp({ metrics: this.counters, readiness: () => this.readiness(), logger: this.options.logger });
      this.url = await this.http.listen({ port: this.options.metricsPort, host: this.options.host ?? '0.0.0.0' });
      this.logger.info({ url: this.url }, 'serving /healthz, /readyz and /metrics');
    }
    this.admin = this.kafka.admin();
    await this.admin.connect();
    // The pipelines topic may not exist yet (no pipeline ever applied): create it, as the control plane would.
    await ensureTopics(this.admin, platformTopics());
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.view = new CompactedTopicView({
      kafka: this.kafka,
      topic: PIPELINES_TOPIC,
      logger: this.logger,
      onChange: (key, value) => {
        const result = this.registry.update(key, value);
        if (!result.ok) {
          this.counters.pipelineRejected();
          this.logger.warn({ key, reason: result.reason }, 'kept the last good pipeline: a published record was invalid');
        }
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
    this.started = true;
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
    if (!this.running) return;
    try {
      await this.subscribe(topics);
    } catch (err) {
      // Forget the list, so the next refresh sees a change and tries again.
      this.topics = [];
      throw err;
    }
  }

  private async subscribe(topics: string[]): Promise<void> {
    this.topics = topics;
    if (topics.length === 0) return;
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId ?? 'tributary-processor',
      maxBytesPerPartition: 1024 * 1024,
      sessionTimeout,
      // Heartbeats well inside the session, and a rebalance that doesn't wait a minute for a dead member.
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
      rebalanceTimeout: sessionTimeout * 2,
    });
    this.consumer = consumer;
    this.consumerRunning = false;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.consumerRunning = true;
      // The lag of partitions another member now has is theirs to report.
      this.counters.retainPartitions(payload.memberAssignment);
    });
    const down = (): void => {
      if (this.consumer === consumer) this.consumerRunning = false;
    };
    consumer.on(consumer.events.STOP, down);
    consumer.on(consumer.events.DISCONNECT, down);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      down();
      if (this.running) this.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
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
    const first = batch.messages[0]?.offset;
    if (first === undefined) {
      this.counters.setLag(batch.topic, batch.partition, batch.offsetLag());
      return;
    }
    // Everything from this batch's first record on is still to be processed.
    this.counters.setLag(batch.topic, batch.partition, BigInt(batch.highWatermark) - BigInt(first));
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
      metrics: this.counters,
    });
    if (!result.acknowledged) {
      log.info('batch abandoned uncommitted: partition revoked or stopping');
      return;
    }
    const last = batch.messages[batch.messages.length - 1]?.offset as string;
    payload.resolveOffset(last);
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }]);
    this.counters.setLag(batch.topic, batch.partition, batch.offsetLag());
    log.debug({ ...result, offset: last }, 'batch committed');
  }

  /** Stops fetching, lets the batch in progress finish or abandons it, leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      this.running = false;
      try {
        if (this.refresher) clearInterval(this.refresher);
        await this.refreshing.catch(() => undefined);
        await this.consumer?.disconnect();
        this.consumerRunning = false;
        this.counters.retainPartitions();
        await this.view?.stop();
        await this.producer?.disconnect();
        await this.admin?.disconnect();
        await this.elasticsearch.close();
      } finally {
        // Last, so /metrics can be read while the batch in progress drains; /readyz says "stopping".
        await this.http?.close();
      }
    })();
    return this.stopping;
  }
}
