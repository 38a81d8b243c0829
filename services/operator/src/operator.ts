import type { Client } from '@elastic/elasticsearch';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { PipelineStore } from '@tributary/apply';
import { createElasticsearch } from '@tributary/elasticsearch';
import { createKafka, type TenantTopicOptions } from '@tributary/kafka';
import { createHealthServer, type Readiness } from '@tributary/service';
import { LoggingPipelineApi, loadKubeConfig, PipelineWatch } from './kube.js';
import { OperatorMetrics } from './metrics.js';
import { ReconcileQueue } from './queue.js';
import { Reconciler } from './reconciler.js';
import type { LoggingPipelineResource } from './resource.js';

export interface OperatorOptions {
  readonly brokers: readonly string[];
  readonly elasticsearchUrl: string;
  /** A kubeconfig file; default KUBECONFIG, ~/.kube/config, else the in-cluster service account. */
  readonly kubeconfig?: string | undefined;
  /** Watch only these namespaces; default all. */
  readonly namespaces?: readonly string[] | undefined;
  readonly topics: TenantTopicOptions;
  readonly notifyAllow?: readonly string[];
  /** Every resource is reconciled again this often, to catch what a missed event would hide; default 300 s. */
  readonly resyncMs?: number;
  /** Resources reconciled at once; default 4. */
  readonly concurrency?: number;
  /** A refusal by the destination check is tried again after this; default 30 s. */
  readonly destinationRetryMs?: number;
  /** 0 picks a free port. */
  readonly metricsPort: number;
  readonly host: string;
  readonly logger: Logger;
}

/**
 * The LoggingPipeline operator: watches the resources, runs each through the apply chain
 * the control plane uses, publishes accepted ones to `tributary.pipelines` and writes
 * `.status`. It holds no state of its own: the API server and the compacted topics are
 * the state, so a restart (or a second operator) rebuilds the same view.
 */
export class Operator {
  readonly metrics = new OperatorMetrics();
  private readonly logger: Logger;
  private readonly kafka: Kafka;
  private readonly elasticsearch: Client;
  private readonly gone = new Map<string, LoggingPipelineResource>();
  private store: PipelineStore | undefined;
  private watch: PipelineWatch | undefined;
  private queue: ReconcileQueue | undefined;
  private http: FastifyInstance | undefined;
  private resync: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private url: string | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: OperatorOptions) {
    this.logger = options.logger.child({ component: 'operator' });
    this.kafka = createKafka({ brokers: options.brokers, clientId: 'tributary-operator' }, this.logger);
    this.elasticsearch = createElasticsearch({ url: options.elasticsearchUrl, maxRetries: 1, requestTimeout: 10_000 });
  }

  /** The base URL of /healthz, /readyz and /metrics once started. */
  get metricsAddress(): string {
    if (!this.url) throw new Error('operator not started');
    return this.url;
  }

  /** Resolves when nothing is being reconciled or waiting to be (retries after a backoff don't count). */
  idle(): Promise<void> {
    return this.queue?.idle() ?? Promise.resolve();
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const { options, logger, metrics } = this;
    const config = loadKubeConfig(options.kubeconfig);
    this.http = createHealthServer({ metrics: metrics.registry, readiness: () => this.readiness(), logger, component: 'operator-http' });
    this.url = await this.http.listen({ port: options.metricsPort, host: options.host });

    const store = new PipelineStore({
      kafka: this.kafka,
      elasticsearch: this.elasticsearch,
      topics: options.topics,
      notifyAllow: options.notifyAllow ?? [],
      logger,
      onPublishFailure: (topic) => metrics.publishFailures.inc({ topic }),
    });
    this.store = store;
    // The pipelines in force first: reconciling against a half-read topic would republish what is there already.
    await store.start();

    const watch = new PipelineWatch({
      config,
      namespaces: options.namespaces,
      logger,
      onChange: (key, gone) => {
        if (gone) this.gone.set(key, gone);
        else this.gone.delete(key);
        this.queue?.add(key);
      },
      onRestart: () => metrics.watchRestarts.inc(),
    });
    this.watch = watch;
    const reconciler = new Reconciler({
      store,
      api: new LoggingPipelineApi(config, logger),
      current: (key) => watch.get(key),
      takeGone: (key) => {
        const last = this.gone.get(key);
        this.gone.delete(key);
        return last;
      },
      metrics,
      logger,
      ...(options.destinationRetryMs === undefined ? {} : { destinationRetryMs: options.destinationRetryMs }),
    });
    this.queue = new ReconcileQueue({
      reconcile: (key) => reconciler.reconcile(key),
      concurrency: options.concurrency ?? 4,
      onError: (key, err, attempt, delayMs) => logger.warn({ key, attempt, delayMs, err: (err as Error).message }, 'reconcile failed; retrying'),
    });
    metrics.observe({ queueDepth: () => this.queue?.depth ?? 0, resources: () => this.watch?.keys().length ?? 0 });
    await watch.start();
    // A pipeline that has a resource and changed in the topic by another way (the HTTP
    // control plane, say) is looked at now: the resource is what stays in force.
    this.unsubscribe = store.registry.onChange(({ tenant, name }) => {
      const key = `${tenant}/${name}`;
      if (watch.get(key)) this.queue?.add(key);
    });
    const resyncMs = options.resyncMs ?? 300_000;
    this.resync = setInterval(() => {
      for (const key of watch.keys()) this.queue?.add(key);
    }, resyncMs);
    this.resync.unref();
    logger.info({ metrics: this.url, namespaces: options.namespaces ?? 'all', pipelines: store.registry.list().length }, 'operator watching LoggingPipelines');
  }

  private readiness(): Readiness {
    if (this.stopping) return { ready: false, reason: 'stopping' };
    if (!this.store?.loaded) return { ready: false, reason: 'reading tributary.pipelines' };
    if (!this.watch?.synced) return { ready: false, reason: 'listing LoggingPipelines' };
    return { ready: true };
  }

  /** Stops watching, lets the reconciles under way finish, then disconnects; safe before start and twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      clearInterval(this.resync);
      this.unsubscribe?.();
      await this.watch?.stop();
      await this.queue?.stop();
      await this.store?.stop();
      await this.elasticsearch.close();
      await this.http?.close();
    })();
    return this.stopping;
  }
}
