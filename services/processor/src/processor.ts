import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Client } from '@elastic/elasticsearch';
import type { FastifyInstance } from 'fastify';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { retryDelay } from '@tributary/retry';
import { CompactedTopicView, createKafka, deadLetterMessage, ensureTopics, PartitionProgress, Partitioners, platformTopics, PIPELINES_TOPIC, TenantTopicWatch, tenantOfTopic, tenantTopics } from '@tributary/kafka';
import { PipelineRegistry } from '@tributary/pipeline';
import { consumerReadiness } from '@tributary/service';
import { createProcessorHttp, type Readiness } from './http.js';
import { BulkWriter, type WriteOutcome } from './bulk-writer.js';
import { DeadLetterSender } from './dead-letter-sender.js';
import { DEFAULT_IN_FLIGHT_LIMITS, InFlightBudget, type InFlightLimits } from './in-flight.js';
import { ProcessorMetrics, type RecordOutcome } from './metrics.js';
import { RecordHandler, type Handled, type SourceRecord } from './record-handler.js';
import { TrafficPublisher } from './traffic-publisher.js';

export interface ProcessorOptions {
  readonly brokers: readonly string[];
  readonly elasticsearchUrl: string;
  readonly schemaRegistryUrl?: string | undefined;
  /** Consumer group; every instance with the same group shares the partitions. */
  readonly groupId?: string;
  /** How often to look for new `logs.<tenant>` topics; default 10 s. */
  readonly topicRefreshMs?: number;
  /**
   * How often the lag of assigned partitions is measured against the log's end even when
   * nothing is fetched (Elasticsearch away, backpressure): without it, the lag would stay
   * at its last fetch while records pile up. Default 10 000.
   */
  readonly lagRefreshMs?: number;
  /** Partitions processed at once by one instance; default 4. */
  readonly concurrency?: number;
  /**
   * How long the group waits for a member that stopped heartbeating (crashed, killed) before
   * giving its partitions to the others; default 10 s. Shorter fails over faster; longer
   * tolerates longer pauses.
   */
  readonly sessionTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Only these tenants' topics are consumed; default every `logs.<tenant>` topic. */
  readonly tenants?: readonly string[] | undefined;
  /** How documents are grouped into `_bulk` requests; see `BulkWriter`. */
  readonly bulk?: {
    readonly maxBytes?: number | undefined;
    readonly maxDocuments?: number | undefined;
    readonly lingerMs?: number | undefined;
    readonly maxInFlight?: number | undefined;
  };
  /** Bytes in flight per process, tenant and partition; see `InFlightBudget`. */
  readonly inFlight?: Partial<InFlightLimits> | undefined;
  /**
   * Time the batches of one fetch may take together before the rest of each is left for the
   * next fetch, ms; default 250. kafkajs fetches again only once every batch of a fetch is
   * done, so this bounds how long an expensive pipeline holds back the other partitions'
   * next fetch. (The rest is fetched again, so a budget far below a batch's cost wastes work.)
   */
  readonly batchTimeBudgetMs?: number;
  /** How soon acknowledged records are committed, ms; default 250. Shorter means less work repeated after a rebalance. */
  readonly commitIntervalMs?: number;
  /** How long `stop()` lets work in flight finish before abandoning it (uncommitted, fetched again by the next owner), ms; default 10 000. */
  readonly shutdownTimeoutMs?: number;
  /** This instance's name in `tributary.traffic`; default `<hostname>-<pid>` (the pod's name, in a cluster). */
  readonly instance?: string | undefined;
  /** How often changed per-pipeline counts are published to `tributary.traffic`, ms; default 10 000. */
  readonly trafficIntervalMs?: number;
  /** Port of `/healthz`, `/readyz` and `/metrics`; 0 picks a free one; undefined serves no HTTP. */
  readonly metricsPort?: number | undefined;
  /** Address the HTTP server binds; default 0.0.0.0. */
  readonly host?: string | undefined;
  readonly logger: Logger;
}

/** How long a batch runs before it lets the event loop turn (other batches, I/O), ms. */
const YIELD_EVERY_MS = 10;

/** What this member holds of one partition in one group generation. */
interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly tenant: string;
  readonly key: string;
  readonly progress: PartitionProgress;
  paused: boolean;
  /** As of the last fetch. */
  highWatermark: bigint;
}

/**
 * One group generation of one consumer: the partitions it was given and the work begun for
 * them. When it ends (rebalance, re-subscription, stop) its work still in flight is
 * abandoned: nothing of it is committed any more, and the next owner fetches it again from
 * the last commit.
 */
interface Generation {
  active: boolean;
  readonly partitions: Map<string, PartitionState>;
  /** Paused partitions by tenant, to resume when the tenant drains. */
  readonly paused: Map<string, Set<PartitionState>>;
  readonly consumer: Consumer | undefined;
}

const ENDED: Generation = { active: false, partitions: new Map(), paused: new Map(), consumer: undefined };

/**
 * The processor: one member of the `tributary-processor` group. It reads every
 * `logs.<tenant>` topic, runs each record through the tenant's current pipeline (hot-
 * reloaded from `tributary.pipelines`), writes Elasticsearch or `dlq.<tenant>`, and commits
 * each partition up to the last record before which everything is acknowledged.
 *
 * A fetched batch is only decoded and run here; its documents join the `BulkWriter`'s
 * shared bulks and the batch returns, so fetching, the pipelines and several bulks overlap.
 * Bytes in flight are bounded per partition and tenant (pause) and per process (stop
 * fetching).
 */
export class Processor {
  private readonly kafka: Kafka;
  private readonly elasticsearch: Client;
  private readonly registry = new PipelineRegistry();
  private readonly counters = new ProcessorMetrics();
  private readonly logger: Logger;
  private readonly budget: InFlightBudget;
  private readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  private writer: BulkWriter;
  private deadLetters: DeadLetterSender | undefined;
  private generation: Generation = ENDED;
  private http: FastifyInstance | undefined;
  private url: string | undefined;
  /** The current consumer has joined its group and not crashed, stopped or disconnected since. */
  private consumerRunning = false;
  /** doStart() got to its end: the first subscription is made. */
  private started = false;
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private traffic: TrafficPublisher | undefined;
  private consumer: Consumer | undefined;
  private view: CompactedTopicView | undefined;
  private topics: string[] = [];
  private watch: TenantTopicWatch | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private refreshingLag = false;
  /** When the batches of the current fetch must stop: set by its first batch, cleared by the next fetch. */
  private fetchDeadline: number | undefined;
  private committing: Promise<void> | undefined;
  /** False while stopping: batches fetched from now on are left unprocessed. */
  private running = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ProcessorOptions) {
    this.logger = options.logger.child({ component: 'processor' });
    this.kafka = createKafka({ brokers: options.brokers, clientId: 'tributary-processor' }, this.logger);
    this.elasticsearch = createElasticsearch({ url: options.elasticsearchUrl, maxRetries: 0, requestTimeout: 30_000 });
    this.registry.onChange((change) => this.counters.pipelineChanged(change));
    this.budget = new InFlightBudget({ ...DEFAULT_IN_FLIGHT_LIMITS, ...definedOnly(options.inFlight ?? {}) });
    this.backoff = options.backoff ?? { initialMs: 200, maxMs: 30_000 };
    this.writer = new BulkWriter({
      elasticsearch: this.elasticsearch,
      maxBulkBytes: options.bulk?.maxBytes,
      maxBulkDocuments: options.bulk?.maxDocuments,
      lingerMs: options.bulk?.lingerMs,
      maxInFlightBulks: options.bulk?.maxInFlight,
      backoff: this.backoff,
      logger: this.logger,
      metrics: this.counters,
    });
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
      // Serve first: /healthz answers and /readyz says why not while the state loads.
      this.http = createProcessorHttp({ metrics: this.counters, readiness: () => this.readiness(), logger: this.options.logger });
      this.url = await this.http.listen({ port: this.options.metricsPort, host: this.options.host ?? '0.0.0.0' });
      this.logger.info({ url: this.url }, 'serving /healthz, /readyz and /metrics');
    }
    this.admin = this.kafka.admin();
    await this.admin.connect();
    // The pipelines topic may not exist yet (no pipeline ever applied): create it, as the control plane would.
    await ensureTopics(this.admin, platformTopics());
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    this.traffic = new TrafficPublisher({ producer: this.producer, instance: this.options.instance ?? `${hostname()}-${process.pid}`, intervalMs: this.options.trafficIntervalMs, logger: this.logger });
    this.traffic.start();
    this.deadLetters = new DeadLetterSender({
      producer: this.producer,
      backoff: this.backoff,
      logger: this.logger,
      metrics: this.counters,
      onFailure: (topic) => this.repairDeadLetterTopic(topic),
    });
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
    // kafkajs resolves a subscription once; new tenants' topics need a new subscription.
    this.watch = new TenantTopicWatch({
      admin: this.admin,
      kind: 'logs',
      tenants: this.options.tenants,
      intervalMs: this.options.topicRefreshMs,
      onChange: (topics) => this.resubscribe(topics),
      onError: (err) => this.logger.error({ err }, 'topic refresh failed'),
    });
    await this.subscribe(await this.watch.start());
    this.lagTimer = setInterval(() => void this.refreshLag(), this.options.lagRefreshMs ?? 10_000);
    this.lagTimer.unref();
    this.started = true;
  }

  /**
   * A `logs.<tenant>` created by someone other than the control plane (a forwarder, a
   * script) may have no `dlq.<tenant>`, and auto-creation is off on sane clusters: create it,
   * rather than hold the tenant's failures forever.
   */
  private async repairDeadLetterTopic(topic: string): Promise<void> {
    const tenant = topic.startsWith('dlq.') ? tenantOfTopic(`logs.${topic.slice('dlq.'.length)}`) : undefined;
    if (!tenant || !this.admin) return;
    const created = await ensureTopics(this.admin, tenantTopics(tenant).filter((t) => t.topic === topic));
    if (created.length > 0) this.logger.warn({ tenant, topic }, 'the dead-letter topic did not exist: created it');
  }

  private async resubscribe(topics: string[]): Promise<void> {
    if (!this.running) return;
    this.logger.info({ added: topics.filter((t) => !this.topics.includes(t)) }, 'new tenant topics: re-subscribing');
    // Commit what is acknowledged; the rest is fetched again after the rejoin (stored once, thanks to the ids).
    await this.commit();
    this.endGeneration();
    await this.consumer?.disconnect();
    if (!this.running) return;
    try {
      await this.subscribe(topics);
    } catch (err) {
      // Forget the list, so the next refresh sees a change and tries again.
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
      groupId: this.options.groupId ?? 'tributary-processor',
      maxBytesPerPartition: 1024 * 1024,
      // A fetch returns as soon as there is data; this only bounds how long stop() waits for an idle one.
      maxWaitTimeInMs: 1000,
      sessionTimeout,
      // Heartbeats well inside the session, and a rebalance that doesn't wait a minute for a dead member.
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
      rebalanceTimeout: sessionTimeout * 2,
    });
    this.consumer = consumer;
    this.consumerRunning = false;
    consumer.on(consumer.events.FETCH_START, () => {
      if (this.consumer === consumer) this.fetchDeadline = undefined;
    });
    consumer.on(consumer.events.REBALANCING, () => {
      if (this.consumer === consumer) this.endGeneration();
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.consumerRunning = true;
      // kafkajs fetches from the committed offsets again after every join: start afresh.
      this.endGeneration();
      this.generation = { active: true, partitions: new Map(), paused: new Map(), consumer };
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
      if (this.consumer === consumer) this.endGeneration();
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
      eachBatch: (payload) => this.eachBatch(payload, handler),
    });
  }

  /** Abandons the current generation's work in flight, and resumes what it paused. */
  private endGeneration(): void {
    const ended = this.generation;
    if (!ended.active) return;
    ended.active = false;
    this.generation = ENDED;
    for (const states of ended.paused.values()) {
      for (const state of states) {
        // kafkajs keeps a pause across rebalances; the next generation decides afresh.
        ended.consumer?.resume([{ topic: state.topic, partitions: [state.partition] }]);
        this.counters.pausedPartitions.dec();
      }
    }
    ended.paused.clear();
    this.writer.abandonInactive();
  }

  /**
   * Decodes and runs one fetched batch and hands its outcomes on; returns without waiting
   * for Elasticsearch, so the next fetch overlaps the bulks. Waits only when the process
   * holds all it may in flight: then nothing more should be fetched.
   */
  private async eachBatch(payload: EachBatchPayload, handler: RecordHandler): Promise<void> {
    const { batch } = payload;
    const gen = this.generation;
    const tenant = tenantOfTopic(batch.topic);
    const first = batch.messages[0];
    if (!this.running || !gen.active || tenant === undefined) return;
    if (first === undefined) {
      this.counters.setLag(batch.topic, batch.partition, batch.offsetLag());
      return;
    }
    const active = (): boolean => gen.active && payload.isRunning() && !payload.isStale();
    if (this.budget.full() && !(await this.waitWhile(() => this.budget.full(), active, payload))) return;

    const key = `${batch.topic}/${batch.partition}`;
    let state = gen.partitions.get(key);
    if (!state) {
      state = { topic: batch.topic, partition: batch.partition, tenant, key, progress: new PartitionProgress(first.offset), paused: false, highWatermark: 0n };
      gen.partitions.set(key, state);
    }
    state.highWatermark = BigInt(batch.highWatermark);
    this.counters.setLag(batch.topic, batch.partition, state.highWatermark - BigInt(first.offset));

    const started = performance.now();
    this.fetchDeadline ??= started + (this.options.batchTimeBudgetMs ?? 250);
    const deadline = this.fetchDeadline;
    let sliceEnd = started + YIELD_EVERY_MS;
    let last: string | undefined;
    let begun = 0;
    for (const message of batch.messages) {
      const now = performance.now();
      // An expensive pipeline or a big batch: leave the rest for the next fetch, let the other partitions in.
      if (last !== undefined && now > deadline) break;
      if (now > sliceEnd) {
        // Decoding never waits on I/O, so without this one batch would hold the event loop:
        // other partitions' batches, bulk answers, heartbeats and /metrics all wait.
        await new Promise((resolve) => setImmediate(resolve));
        sliceEnd = performance.now() + YIELD_EVERY_MS;
        if (!active()) break;
      }
      const record: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers };
      let handled = await handler.handle(record);
      for (let attempt = 1; handled.kind === 'retry'; attempt++) {
        this.counters.retries.inc({ kind: 'decode' });
        this.logger.warn({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason: handled.reason }, 'cannot decode yet: waiting');
        const until = Date.now() + retryDelay(attempt, this.backoff);
        if (!(await this.waitWhile(() => Date.now() < until, active, payload))) break;
        handled = await handler.handle(record);
      }
      if (handled.kind === 'retry' || !active()) break;
      state.progress.begin(message.offset);
      begun++;
      this.dispatch(handled, record, state, gen);
      last = message.offset;
    }
    if (begun > 0) this.counters.recordsIn.inc({ tenant }, begun);
    // Only the current generation may move kafkajs's fetch position: a later one fetches from the commit.
    if (last === undefined || !gen.active) return;
    payload.resolveOffset(last);
    // Offsets after the last record (transaction markers) need no work: the commit may pass them.
    if (last === batch.messages[batch.messages.length - 1]?.offset) state.progress.passed(batch.lastOffset());
    if (!state.paused && this.budget.shouldPause(tenant, key)) {
      payload.pause();
      state.paused = true;
      let paused = gen.paused.get(tenant);
      if (!paused) gen.paused.set(tenant, (paused = new Set()));
      paused.add(state);
      this.counters.pausedPartitions.inc();
    }
    this.scheduleCommit();
  }

  /** Sends one record's outcome on its way; `settle` runs once it is final. */
  private dispatch(handled: Handled, record: SourceRecord, state: PartitionState, gen: Generation): void {
    const pipeline = handled.kind === 'index' || handled.kind === 'drop' || handled.kind === 'deadLetter' ? handled.pipeline : null;
    const bytes = (record.value?.length ?? 0) + (handled.kind === 'index' ? handled.body.length : 0);
    this.budget.add(state.tenant, state.key, bytes);
    this.counters.inFlightBytes.inc(bytes);
    this.counters.inFlightRecords.inc();
    const active = (): boolean => gen.active;
    const settle = (outcome: RecordOutcome | undefined): void => {
      this.budget.remove(state.tenant, state.key, bytes);
      this.counters.inFlightBytes.dec(bytes);
      this.counters.inFlightRecords.dec();
      if (outcome === undefined) this.counters.recordsAbandoned.inc({ tenant: state.tenant });
      else {
        this.counters.recordsOut.inc({ tenant: state.tenant, outcome });
        this.traffic?.count(state.tenant, pipeline, outcome);
      }
      if (!gen.active) return;
      if (outcome !== undefined) {
        state.progress.complete(record.offset);
        this.scheduleCommit();
      }
      this.resumeDrained(gen, state.tenant);
    };
    switch (handled.kind) {
      case 'index':
        this.writer.write({
          tenant: state.tenant,
          item: { index: handled.index, id: handled.id, body: handled.body, op: handled.op },
          active,
          done: (outcome: WriteOutcome) => {
            if (outcome.status === 'stored') return settle(outcome.duplicate ? 'duplicate' : 'indexed');
            if (outcome.status === 'abandoned') return settle(undefined);
            (this.deadLetters as DeadLetterSender).send({
              tenant: state.tenant,
              topic: `dlq.${state.tenant}`,
              class: outcome.class,
              message: deadLetterMessage(
                { key: record.key, value: record.value, headers: record.headers },
                // Refused by the index's mapping, or a request Elasticsearch can never take (an _id too long).
                { class: outcome.class, message: outcome.reason, pipeline: handled.pipeline, version: handled.version, topic: record.topic, partition: record.partition, offset: record.offset, firstFailure: new Date().toISOString() },
              ),
              active,
              done: (durable) => settle(durable ? 'dead_lettered' : undefined),
            });
          },
        });
        return;
      case 'deadLetter':
        (this.deadLetters as DeadLetterSender).send({ tenant: state.tenant, topic: handled.topic, class: handled.class, message: handled.message, active, done: (durable) => settle(durable ? 'dead_lettered' : undefined) });
        return;
      case 'drop':
        return settle('dropped');
      case 'skip':
      case 'retry':
        // Not a tenant record (eachBatch only runs on logs.<tenant>), or still undecodable: nothing to write.
        return settle(undefined);
    }
  }

  /** Resumes the tenant's paused partitions that drained below half their limits. */
  private resumeDrained(gen: Generation, tenant: string): void {
    const paused = gen.paused.get(tenant);
    if (!paused) return;
    for (const state of paused) {
      if (!this.budget.mayResume(tenant, state.key)) continue;
      paused.delete(state);
      state.paused = false;
      this.counters.pausedPartitions.dec();
      gen.consumer?.resume([{ topic: state.topic, partitions: [state.partition] }]);
    }
    if (paused.size === 0) gen.paused.delete(tenant);
  }

  /** Waits while `condition` holds, heartbeating; false when the work is no longer wanted. */
  private async waitWhile(condition: () => boolean, active: () => boolean, payload: EachBatchPayload): Promise<boolean> {
    this.counters.waitingPartitions.inc();
    try {
      while (condition()) {
        if (!active() || !this.running) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
        // A rebalance surfaces here as an error: let kafkajs see it and rejoin.
        await payload.heartbeat();
      }
      return active() && this.running;
    } finally {
      this.counters.waitingPartitions.dec();
    }
  }

  private scheduleCommit(): void {
    if (this.commitTimer) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commit();
    }, this.options.commitIntervalMs ?? 250);
  }

  /** The lag of every partition this member holds, from the log's end now and the last commit. */
  private async refreshLag(): Promise<void> {
    const gen = this.generation;
    // One refresh at a time: with many tenants one can outlast the interval.
    if (!gen.active || !this.admin || this.refreshingLag) return;
    this.refreshingLag = true;
    try {
      await this.refreshLagOf(gen);
    } finally {
      this.refreshingLag = false;
    }
  }

  private async refreshLagOf(gen: Generation): Promise<void> {
    if (!this.admin) return;
    for (const topic of new Set([...gen.partitions.values()].map((s) => s.topic))) {
      const offsets = await this.admin.fetchTopicOffsets(topic).catch(() => undefined);
      for (const { partition, high } of offsets ?? []) {
        const state = gen.partitions.get(`${topic}/${partition}`);
        if (!state || !gen.active) continue;
        if (BigInt(high) > state.highWatermark) state.highWatermark = BigInt(high);
        this.counters.setLag(topic, partition, state.highWatermark - BigInt(state.progress.committedOffset));
      }
    }
  }

  /** Commits every partition of the current generation whose acknowledged run moved. */
  private async commit(): Promise<void> {
    await this.committing;
    const gen = this.generation;
    if (!gen.active || !gen.consumer) return;
    const due: Array<{ state: PartitionState; offset: string }> = [];
    for (const state of gen.partitions.values()) {
      const offset = state.progress.committable();
      if (offset !== undefined) due.push({ state, offset });
    }
    if (due.length === 0) return;
    this.committing = (async () => {
      try {
        await (gen.consumer as Consumer).commitOffsets(due.map(({ state, offset }) => ({ topic: state.topic, partition: state.partition, offset })));
        for (const { state, offset } of due) {
          state.progress.markCommitted(offset);
          if (gen.active) this.counters.setLag(state.topic, state.partition, state.highWatermark - BigInt(offset));
        }
      } catch (err) {
        // A rebalance or a coordinator move: the next generation starts from what was committed before.
        this.logger.info({ err, partitions: due.length }, 'commit failed: the acknowledged records will be fetched again');
      } finally {
        this.committing = undefined;
      }
    })();
    await this.committing;
  }

  /**
   * Stops fetching, lets the work in flight finish (up to `shutdownTimeoutMs`), commits
   * what is acknowledged, abandons the rest uncommitted, and leaves the group.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      try {
        await this.watch?.stop();
        this.running = false;
        const consumer = this.consumer;
        if (consumer && this.topics.length > 0) consumer.pause(this.topics.map((topic) => ({ topic })));
        const timeoutMs = this.options.shutdownTimeoutMs ?? 10_000;
        const drained = await this.writer.idle(timeoutMs);
        if (!drained) this.logger.warn({ pending: this.writer.pending, timeoutMs }, 'stopping with documents still in flight: they stay uncommitted and are fetched again');
        await this.idleDeadLetters(timeoutMs);
        if (this.commitTimer) clearTimeout(this.commitTimer);
        this.commitTimer = undefined;
        clearInterval(this.lagTimer);
        await this.commit();
        this.endGeneration();
        this.writer.stop();
        this.deadLetters?.stop();
        await consumer?.disconnect();
        this.consumerRunning = false;
        this.counters.retainPartitions();
        await this.view?.stop();
        await this.traffic?.stop();
        await this.producer?.disconnect();
        await this.admin?.disconnect();
        await this.elasticsearch.close();
      } finally {
        // Last, so /metrics can be read while the work in flight drains; /readyz says "stopping".
        await this.http?.close();
      }
    })();
    return this.stopping;
  }

  private async idleDeadLetters(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.deadLetters?.pending ?? 0) > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Drops keys set to undefined, so they don't override defaults in a spread. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
