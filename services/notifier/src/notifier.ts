import type { FastifyInstance } from 'fastify';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { CompactedTopicView, createKafka, DELIVERIES_TOPIC, ensureTopics, Partitioners, platformTopics, PIPELINES_TOPIC, readDeadLetter, TenantTopicWatch } from '@tributary/kafka';
import { AddressPolicy, deliveryStatusKey, SecretFiles, urlOrigin, type DeliveryStatus } from '@tributary/notify';
import { PipelineRegistry } from '@tributary/pipeline';
import { consumerReadiness, createHealthServer, type Readiness } from '@tributary/service';
import { WholeTopicAssigner } from './assigner.js';
import { NotifierMetrics } from './metrics.js';
import { PartitionPositions, type PartitionStart } from './partitions.js';
import { SubscriptionBook } from './subscription-book.js';
import type { DeliverySettings, Settlement, Subscription } from './subscription.js';

export interface NotifierOptions {
  readonly brokers: readonly string[];
  /** Consumer group; default `tributary-notifier`. */
  readonly groupId?: string;
  /** Only these tenants' `dlq.<tenant>`; default every one. */
  readonly tenants?: readonly string[] | undefined;
  /** How often to look for new `dlq.<tenant>` topics; default 10 s. */
  readonly topicRefreshMs?: number;
  /** Addresses and networks notifications may go to although inside (an in-cluster receiver); see `AddressPolicy`. */
  readonly allow?: readonly string[];
  /** Where tenants' signing keys are mounted: `<dir>/<tenant>/<secretRef>`. */
  readonly secretsDir?: string | undefined;
  /** A subscription's window when its manifest gives none; default 60 000 ms. */
  readonly defaultWindowMs?: number;
  /** The platform's minimum window; default 10 000 ms. */
  readonly minWindowMs?: number;
  /**
   * How much later than its timestamp a dead letter may be readable (the processor's
   * batching, clock skew): a window closes this long after its end; default 2 000 ms.
   */
  readonly latenessMs?: number;
  /** How long a retriable failure is retried before the notification is failed; default 15 min. */
  readonly retryForMs?: number;
  /** One attempt's limit; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Backoff between attempts: from, doubling with jitter, to; defaults 1 000 and 60 000 ms. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Notifications waiting per subscription before new ones are suppressed; default 100. */
  readonly maxQueued?: number;
  /** Samples per notification and characters per sample; defaults 3 and 1 000. */
  readonly maxSamples?: number;
  readonly sampleChars?: number;
  /** How often settled notifications' offsets are committed; default 1 000 ms. */
  readonly commitIntervalMs?: number;
  readonly sessionTimeoutMs?: number;
  /** Port of `/healthz`, `/readyz` and `/metrics`; 0 picks a free one; undefined serves no HTTP. */
  readonly metricsPort?: number | undefined;
  readonly host?: string | undefined;
  readonly logger: Logger;
}

/** How often windows are checked for closing, ms. */
const TICK_MS = 250;

/**
 * The notifier: reads every `dlq.<tenant>` in its own group, groups each tenant's dead
 * letters per subscription (its pipelines' `spec.deadLetter.notify`, hot-reloaded from
 * `tributary.pipelines`) and window, and delivers one notification per group and window.
 *
 * A partition is committed only up to the first dead letter whose notification is not yet
 * delivered or definitively failed. Windows are aligned to the clock and a dead letter
 * falls into the window of its own timestamp, so after a crash the records read again
 * rebuild the same windows and their notifications go with the same idempotency keys.
 */
export class Notifier {
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly registry = new PipelineRegistry();
  private readonly counters = new NotifierMetrics();
  private readonly positions = new PartitionPositions();
  private readonly book: SubscriptionBook;
  private readonly groupId: string;
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private view: CompactedTopicView | undefined;
  private watch: TenantTopicWatch | undefined;
  private http: FastifyInstance | undefined;
  private url: string | undefined;
  private topics: string[] = [];
  private consumerRunning = false;
  /** Resolves once the current assignment's starting positions are known; batches wait for it. */
  private assigned: Promise<void> = Promise.resolve();
  /** Per broker: when the fetch now under way started, and when the one before it did (whose batches are all handled now). */
  private readonly fetches = new Map<number, { current: number; handled: number }>();
  private timer: NodeJS.Timeout | undefined;
  private lastCommit = 0;
  private committing: Promise<void> = Promise.resolve();
  private statusWrites: Promise<unknown> = Promise.resolve();
  private running = false;
  private started = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: NotifierOptions) {
    this.logger = options.logger.child({ component: 'notifier' });
    this.kafka = createKafka({ brokers: options.brokers, clientId: 'tributary-notifier' }, this.logger);
    this.groupId = options.groupId ?? 'tributary-notifier';
    const settings: DeliverySettings = {
      policy: new AddressPolicy(options.allow ?? []),
      secrets: options.secretsDir ? new SecretFiles(options.secretsDir) : undefined,
      timeoutMs: options.timeoutMs ?? 10_000,
      retryForMs: options.retryForMs ?? 15 * 60_000,
      initialDelayMs: options.initialDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      maxQueued: options.maxQueued ?? 100,
      maxSamples: options.maxSamples ?? 3,
      sampleChars: options.sampleChars ?? 1000,
    };
    this.book = new SubscriptionBook({
      settings,
      defaultWindowMs: options.defaultWindowMs,
      minWindowMs: options.minWindowMs,
      hooks: {
        settled: (settlement) => this.settled(settlement),
        retrying: (subscription, failure) => {
          this.counters.retries.inc({ tenant: subscription.tenant, channel: subscription.target.kind });
          this.logger.warn({ subscription: subscription.id, reason: 'reason' in failure ? failure.reason : undefined }, 'notification not delivered yet: retrying');
        },
      },
    });
    this.registry.onChange(({ tenant, name }) => {
      for (const gone of this.book.sync(tenant, name, this.registry.get(tenant, name))) this.forget(gone);
      this.counters.subscriptions.set({ tenant }, this.book.ofTenant(tenant).length);
    });
  }

  get metrics(): NotifierMetrics {
    return this.counters;
  }

  /** The pipelines in force, as this instance sees them. */
  get pipelines(): PipelineRegistry {
    return this.registry;
  }

  get metricsAddress(): string {
    if (!this.url) throw new Error(this.options.metricsPort === undefined ? 'notifier started without a metricsPort' : 'notifier not started');
    return this.url;
  }

  readiness(): Readiness {
    return consumerReadiness({
      stopping: this.stopping !== undefined,
      pipelinesLoaded: this.view?.caughtUp === true,
      started: this.started,
      subscribed: this.topics.length > 0,
      consuming: this.consumerRunning,
    });
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.options.metricsPort !== undefined) {
      this.http = createHealthServer({ metrics: this.counters, readiness: () => this.readiness(), logger: this.options.logger, component: 'notifier-http' });
      this.url = await this.http.listen({ port: this.options.metricsPort, host: this.options.host ?? '0.0.0.0' });
      this.logger.info({ url: this.url }, 'serving /healthz, /readyz and /metrics');
    }
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await ensureTopics(this.admin, platformTopics());
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
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
    // Subscriptions first: a dead letter read before its pipeline's subscriptions are known would notify nobody.
    await this.view.start();
    this.running = true;
    this.watch = new TenantTopicWatch({
      admin: this.admin,
      kind: 'dlq',
      tenants: this.options.tenants,
      intervalMs: this.options.topicRefreshMs,
      onChange: (topics) => this.resubscribe(topics),
      onError: (err) => this.logger.error({ err }, 'topic refresh failed'),
    });
    await this.subscribe(await this.watch.start());
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.started = true;
  }

  private async resubscribe(topics: string[]): Promise<void> {
    if (!this.running) return;
    this.logger.info({ added: topics.filter((t) => !this.topics.includes(t)) }, 'new dead-letter topics: re-subscribing');
    await this.commit();
    await this.consumer?.disconnect();
    if (!this.running) return;
    try {
      await this.subscribe(topics);
    } catch (err) {
      this.topics = [];
      this.watch?.reset();
      throw err;
    }
  }

  private async subscribe(topics: string[]): Promise<void> {
    this.topics = topics;
    if (topics.length === 0) return;
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      partitionAssigners: [WholeTopicAssigner],
      // Dead letters are a trickle, and a backlog is read fast enough in small fetches: they
      // keep the decompressed batches (native memory, returned to the system late) small.
      maxBytesPerPartition: 256 * 1024,
      maxBytes: 2 * 1024 * 1024,
      maxWaitTimeInMs: 500,
      sessionTimeout,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
      rebalanceTimeout: sessionTimeout * 2,
    });
    this.consumer = consumer;
    this.consumerRunning = false;
    consumer.on(consumer.events.FETCH_START, ({ payload }) => {
      if (this.consumer !== consumer) return;
      const fetch = this.fetches.get(payload.nodeId);
      const now = Date.now();
      // The next fetch of a broker starts only once the batches of its last one are handled.
      this.fetches.set(payload.nodeId, { current: now, handled: fetch?.current ?? Number.NEGATIVE_INFINITY });
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.consumerRunning = true;
      this.fetches.clear();
      this.assigned = this.assign(payload.memberAssignment).catch((err: unknown) => {
        this.logger.error({ err }, 'could not read where the assigned partitions start: rejoining');
        throw err;
      });
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
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.eachBatch(payload) });
  }

  /** The new assignment: where each partition starts (its commit) and ends; topics gone are forgotten. */
  private async assign(assignment: Record<string, number[]>): Promise<void> {
    const admin = this.admin;
    if (!admin) return;
    for (const topic of this.positions.held()) {
      if (assignment[topic]) continue;
      this.positions.revoke(topic);
      for (const subscription of this.book.ofTenant(tenantOf(topic))) subscription.reset();
    }
    for (const [topic, partitions] of Object.entries(assignment)) {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: this.groupId, topics: [topic] })]);
      const starts: PartitionStart[] = partitions.map((partition) => {
        const end = ends.find((e) => e.partition === partition);
        const low = BigInt(end?.low ?? '0');
        const at = committed?.partitions.find((p) => p.partition === partition)?.offset;
        const next = at === undefined || Number(at) < 0 || BigInt(at) < low ? low : BigInt(at);
        return { partition, next, high: BigInt(end?.high ?? '0') };
      });
      this.positions.assign(topic, starts);
    }
  }

  private async eachBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    await this.assigned;
    const { topic, partition } = batch;
    const tenant = tenantOf(topic);
    for (const message of batch.messages) {
      if (!this.positions.read(topic, partition, BigInt(message.offset), Number(message.timestamp))) continue;
      const cause = readDeadLetter(message.headers);
      if (!cause) {
        this.counters.notDeadLetters.inc({ tenant });
        continue;
      }
      this.counters.deadLetters.inc({ tenant, pipeline: cause.pipeline ?? '', class: cause.class });
      const entry = { tenant, cause, partition, offset: message.offset, at: Number(message.timestamp), value: message.value };
      for (const subscription of this.book.route(tenant, cause.pipeline)) subscription.add(entry);
    }
    this.positions.seenEnd(topic, partition, BigInt(batch.highWatermark));
    await heartbeat();
  }

  private tick(): void {
    if (!this.running) return;
    const now = Date.now();
    let handled = Number.POSITIVE_INFINITY;
    for (const fetch of this.fetches.values()) handled = Math.min(handled, fetch.handled);
    const fetchedAt = this.fetches.size === 0 ? Number.NEGATIVE_INFINITY : handled;
    for (const topic of this.positions.held()) {
      const tenant = tenantOf(topic);
      const watermark = this.positions.watermark(topic, fetchedAt, this.options.latenessMs ?? 2000);
      let queued = 0;
      let pending = 0;
      for (const subscription of this.book.ofTenant(tenant)) {
        subscription.close(watermark, now);
        queued += subscription.queued;
        pending += subscription.pending;
      }
      this.counters.queued.set({ tenant }, queued);
      this.counters.pendingDeadLetters.set({ tenant }, pending);
      for (const { partition, lag } of this.positions.lag(topic)) this.counters.consumerLag.set({ tenant, partition: String(partition) }, Number(lag));
    }
    if (now - this.lastCommit >= (this.options.commitIntervalMs ?? 1000)) void this.commit();
  }

  /** Commits every partition up to its first dead letter whose notification is not settled. */
  private commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const consumer = this.consumer;
      if (!consumer || !this.consumerRunning) return;
      this.lastCommit = Date.now();
      const offsets: Array<{ topic: string; partition: number; offset: bigint }> = [];
      for (const topic of this.positions.held()) {
        const subscriptions = this.book.ofTenant(tenantOf(topic));
        for (const partition of this.positions.partitions(topic)) {
          let held: bigint | undefined;
          for (const subscription of subscriptions) {
            const lowest = subscription.lowestOffset(partition);
            if (lowest !== undefined && (held === undefined || lowest < held)) held = lowest;
          }
          const offset = this.positions.toCommit(topic, partition, held);
          if (offset !== undefined) offsets.push({ topic, partition, offset });
        }
      }
      if (offsets.length === 0) return;
      try {
        await consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })));
        for (const { topic, partition, offset } of offsets) this.positions.committed(topic, partition, offset);
      } catch (err) {
        // A rebalance under way: the next member (or this one, rejoined) commits after it.
        this.logger.warn({ err }, 'commit failed; trying again at the next one');
      }
    });
    return this.committing;
  }

  private settled(settlement: Settlement): void {
    const { subscription, notification, outcome, last } = settlement;
    const channel = subscription.target.kind;
    this.counters.notifications.inc({ tenant: subscription.tenant, channel, outcome: outcome === 'delivered' ? 'sent' : outcome });
    if (outcome !== 'suppressed') this.counters.deliverySeconds.observe({ channel }, settlement.ms / 1000);
    const reason = last && !last.ok ? last.reason : undefined;
    const log = { subscription: subscription.id, idempotencyKey: notification.idempotencyKey, count: notification.count, class: notification.class, attempts: settlement.attempts, ...(reason ? { reason } : {}) };
    if (outcome === 'delivered') this.logger.info(log, 'notification delivered');
    else this.logger.warn(log, outcome === 'failed' ? 'notification failed' : 'notification suppressed: the subscription\'s queue is full');
    const status: DeliveryStatus = {
      tenant: subscription.tenant,
      pipeline: subscription.pipeline,
      subscription: subscription.target.index,
      channel,
      destination: urlOrigin(subscription.target.url),
      last: {
        at: settlement.at.toISOString(),
        outcome,
        idempotencyKey: notification.idempotencyKey,
        class: notification.class,
        count: notification.count,
        window: notification.window,
        attempts: settlement.attempts,
        ...(last && 'status' in last && last.status !== undefined ? { status: last.status } : {}),
        ...(reason ? { reason } : {}),
      },
    };
    this.publishStatus(deliveryStatusKey(subscription.tenant, subscription.pipeline, subscription.target.index), JSON.stringify(status));
  }

  /** A subscription that went away: its status goes too. */
  private forget(subscription: Subscription): void {
    this.publishStatus(deliveryStatusKey(subscription.tenant, subscription.pipeline, subscription.target.index), null);
  }

  private publishStatus(key: string, value: string | null): void {
    const producer = this.producer;
    if (!producer) return;
    // Status is a report: one that can't be written is logged, and never holds a delivery back.
    this.statusWrites = this.statusWrites
      .then(() => producer.send({ topic: DELIVERIES_TOPIC, acks: -1, messages: [{ key, value }] }))
      .catch((err: unknown) => this.logger.warn({ err, key }, 'could not write the delivery status'));
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.watch?.stop();
    // What is settled is committed; what is open or queued is left for the next start to read again.
    this.book.stop();
    await this.commit().catch(() => undefined);
    await this.statusWrites;
    const results = await Promise.allSettled([this.consumer?.disconnect(), this.view?.stop(), this.producer?.disconnect(), this.admin?.disconnect(), this.http?.close()]);
    for (const result of results) if (result.status === 'rejected') this.logger.warn({ err: result.reason }, 'stopping: a disconnect failed');
  }
}

function tenantOf(topic: string): string {
  return topic.slice('dlq.'.length);
}
