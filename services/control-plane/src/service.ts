import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Client } from '@elastic/elasticsearch';
import { createElasticsearch } from '@tributary/elasticsearch';
import { PipelineStore } from '@tributary/apply';
import { CompactedTopicView, createKafka, DeadLetterStore, DELIVERIES_TOPIC, sampleLag, TrafficBook, TRAFFIC_TOPIC, type TenantTopicOptions } from '@tributary/kafka';
import { registerConsole } from '@tributary/console';
import { TokenAuthenticator, type TokenConfig } from './auth.js';
import { ControlPlaneMetrics } from './metrics.js';
import { isUnknownTopic, registerDeadLetterRoutes, type PipelineOverview, type PlatformTraffic, type TenantTraffic } from './dead-letter-routes.js';
import { registerRoutes, tenantGuard } from './routes.js';
import { DeliveryBook } from './status.js';

/** How long one measurement of every tenant (`GET /v1/traffic`) is shared, ms. */
const GLANCE_TTL_MS = 5000;

export interface ControlPlaneOptions {
  readonly brokers: readonly string[];
  readonly elasticsearchUrl: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
  readonly tokens: TokenConfig;
  /** Partitions and retention of the topics created for a tenant on its first apply. */
  readonly topics: TenantTopicOptions;
  /**
   * Addresses and CIDR networks dead-letter webhooks may point at although they are inside
   * (loopback, private, link-local): an in-cluster receiver, or loopback in tests. Default none.
   */
  readonly notifyAllow?: readonly string[];
  /** The processor group whose lag `GET /v1/tenants/{tenant}/traffic` reports; default tributary-processor. */
  readonly processorGroup?: string;
  /** Serve the tenant console at /console (default), with these settings, or not (`false`). */
  readonly console?: boolean | { readonly replayBatch?: number };
  readonly logger: Logger;
}

/**
 * The control plane: state lives only in the compacted topics (so it is stateless and a
 * restart rebuilds the same view), the HTTP API serves once that state is loaded.
 */
export class ControlPlane {
  private readonly kafka: Kafka;
  private readonly elasticsearch: Client;
  private store: PipelineStore | undefined;
  private readonly deliveries = new DeliveryBook();
  private readonly trafficBook = new TrafficBook();
  private glance: { at: number; answer: Promise<PlatformTraffic> } | undefined;
  private readonly metrics = new ControlPlaneMetrics();
  private readonly app: FastifyInstance;
  private views: CompactedTopicView[] = [];
  private loaded = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private url: string | undefined;

  constructor(private readonly options: ControlPlaneOptions) {
    const logger = options.logger.child({ component: 'control-plane' });
    this.kafka = createKafka({ brokers: options.brokers, clientId: 'tributary-control-plane' }, logger);
    this.elasticsearch = createElasticsearch({ url: options.elasticsearchUrl, maxRetries: 1, requestTimeout: 10_000 });
    this.app = Fastify({ loggerInstance: options.logger.child({ component: 'control-plane-http' }) as FastifyBaseLogger, bodyLimit: 512 * 1024 });
    // Never log tokens: fastify's default request serializer leaves headers out, keep it so.
  }

  /** The base URL once started. */
  get address(): string {
    if (!this.url) throw new Error('control plane not started');
    return this.url;
  }

  /** Fastify, for tests that call the API in-process with inject(). */
  get http(): FastifyInstance {
    return this.app;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const logger = this.options.logger.child({ component: 'control-plane' });
    const store = new PipelineStore({
      kafka: this.kafka,
      elasticsearch: this.elasticsearch,
      topics: this.options.topics,
      notifyAllow: this.options.notifyAllow ?? [],
      logger,
      onPublishFailure: (topic) => this.metrics.publishFailures.inc({ topic }),
    });
    this.store = store;
    const routes = { apply: store.deps, auth: new TokenAuthenticator(this.options.tokens), metrics: this.metrics, ready: () => this.loaded, platformTraffic: () => this.platformTraffic() };
    registerRoutes(this.app, routes);
    registerDeadLetterRoutes(this.app, {
      guard: tenantGuard(routes),
      store: new DeadLetterStore({ kafka: this.kafka, admin: store.admin, producer: store.producer, logger }),
      pipelines: (tenant) => this.overview(tenant),
      traffic: (tenant) => this.traffic(tenant),
      logger,
    });
    if (this.options.console !== false) {
      const settings = typeof this.options.console === 'object' ? this.options.console : {};
      await registerConsole(this.app, {
        ...settings,
        authenticate: (token) => routes.auth.authenticate(`Bearer ${token}`),
        // The console reads and acts through this very API, with the signed-in token.
        api: async (request) => {
          const response = await this.app.inject({ method: request.method, url: request.url, headers: { ...request.headers, authorization: `Bearer ${request.token}` }, ...(request.body === undefined ? {} : { payload: request.body }) });
          let body: unknown;
          try {
            body = response.body === '' ? undefined : JSON.parse(response.body);
          } catch {
            body = undefined;
          }
          return { status: response.statusCode, body };
        },
        // Streams can't go through inject: the console opens them on this server's own address.
        stream: async (request, signal) => {
          const response = await fetch(`${this.address}${request.url}`, { headers: { authorization: `Bearer ${request.token}`, accept: 'text/event-stream' }, signal });
          // A web ReadableStream, async-iterable in Node (its types here say otherwise).
          return { status: response.status, body: response.body as unknown as AsyncIterable<Uint8Array> | null };
        },
      });
    }

    this.views = [
      new CompactedTopicView({
        kafka: this.kafka,
        topic: DELIVERIES_TOPIC,
        logger,
        onChange: (key, value) => {
          if (!this.deliveries.update(key, value)) logger.warn({ key }, 'ignored a malformed delivery status record');
        },
      }),
      new CompactedTopicView({
        kafka: this.kafka,
        topic: TRAFFIC_TOPIC,
        logger,
        onChange: (key, value) => {
          if (!this.trafficBook.update(key, value)) logger.warn({ key }, 'ignored a malformed traffic record');
        },
      }),
    ];
    // The store creates the platform topics, tributary.deliveries and tributary.traffic among them.
    await store.start();
    await Promise.all(this.views.map((view) => view.start()));
    this.loaded = true;
    this.url = await this.app.listen({ port: this.options.port, host: this.options.host });
    logger.info({ url: this.url, pipelines: store.registry.list().length }, 'control plane ready');
  }

  /** From Kafka's offsets: records in over the last hour, and the processor group's lag; from tributary.traffic, each pipeline's. */
  private async traffic(tenant: string): Promise<TenantTraffic> {
    const admin = (this.store as PipelineStore).admin;
    const topic = `logs.${tenant}`;
    try {
      const [sample, hourAgo] = await Promise.all([sampleLag(admin, this.options.processorGroup ?? 'tributary-processor', [topic]), admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 3_600_000)]);
      const from = new Map(hourAgo.map((p) => [p.partition, Number(p.offset)]));
      let recordsLastHour = 0;
      let lag = 0;
      for (const p of sample.partitions) {
        // -1: nothing written since then.
        const start = from.get(p.partition) ?? -1;
        recordsLastHour += start < 0 ? 0 : Math.max(0, p.high - start);
        lag += Math.max(0, p.high - p.committed);
      }
      return { tenant, recordsLastHour, lag, partitions: sample.partitions.length, processors: sample.members, pipelinesLastHour: this.pipelinesLastHour(tenant) };
    } catch (err) {
      if (!isUnknownTopic(err)) throw err;
      return { tenant, recordsLastHour: 0, lag: 0, partitions: 0, processors: 0, pipelinesLastHour: this.pipelinesLastHour(tenant) };
    }
  }

  /**
   * Every tenant at a glance: one lag sample over all their topics, the traffic from memory.
   * Shared for GLANCE_TTL_MS, so admins refreshing a page don't multiply Kafka requests.
   */
  private platformTraffic(): Promise<PlatformTraffic> {
    const now = Date.now();
    if (this.glance && now - this.glance.at < GLANCE_TTL_MS) return this.glance.answer;
    const answer = this.measurePlatform();
    this.glance = { at: now, answer };
    // A failure is not kept: the next request measures again.
    answer.catch(() => {
      if (this.glance?.answer === answer) this.glance = undefined;
    });
    return answer;
  }

  private async measurePlatform(): Promise<PlatformTraffic> {
    const { registry, statuses, admin } = this.store as PipelineStore;
    const tenants = [...new Set([...registry.list().map((p) => p.tenant), ...statuses.tenants()])].sort();
    const existing = new Set(await admin.listTopics());
    const topics = tenants.map((t) => `logs.${t}`).filter((t) => existing.has(t));
    const sample = await sampleLag(admin, this.options.processorGroup ?? 'tributary-processor', topics);
    const lag = new Map<string, { lag: number; partitions: number }>();
    for (const p of sample.partitions) {
      const entry = lag.get(p.topic) ?? { lag: 0, partitions: 0 };
      lag.set(p.topic, { lag: entry.lag + Math.max(0, p.high - p.committed), partitions: entry.partitions + 1 });
    }
    const lastHour = this.trafficBook.tenants();
    return {
      at: new Date(sample.at).toISOString(),
      processors: sample.members,
      tenants: tenants.map((tenant) => ({
        tenant,
        ...(lag.get(`logs.${tenant}`) ?? { lag: 0, partitions: 0 }),
        lastHour: lastHour.get(tenant) ?? { in: 0, indexed: 0, dropped: 0, deadLettered: 0 },
        pipelinesInForce: registry.list(tenant).map((p) => ({ name: p.name, version: p.version })),
      })),
    };
  }

  private pipelinesLastHour(tenant: string): TenantTraffic['pipelinesLastHour'] {
    return Object.fromEntries([...this.trafficBook.lastHour(tenant)].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** A tenant's pipelines, in force or ever applied, with their subscriptions' last deliveries. */
  private overview(tenant: string): PipelineOverview[] {
    const { registry, statuses } = this.store as PipelineStore;
    const names = new Set([...registry.list(tenant).map((p) => p.name), ...statuses.names(tenant)]);
    return [...names].sort().map((name) => {
      const inForce = registry.get(tenant, name);
      const status = statuses.get(tenant, name);
      return {
        name,
        version: inForce?.version ?? null,
        appliedAt: inForce?.appliedAt ?? null,
        lastAttempt: status ? { at: status.lastAttempt.at, outcome: status.lastAttempt.outcome } : null,
        notifications: this.deliveries.of(tenant, name),
      };
    });
  }

  /** Stops serving, then disconnects; safe before start and twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.app.close();
      await Promise.all(this.views.map((view) => view.stop()));
      // Last: the dead-letter routes share its clients.
      await this.store?.stop();
      await this.elasticsearch.close();
    })();
    return this.stopping;
  }
}
