import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '@tributary/logger';

/** Whether a service should receive traffic; when not, why (a fixed sentence, nothing from tenants). */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** What `/metrics` serves: a prom-client `Registry` fits. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface HealthServerDeps {
  readonly metrics: MetricsSource;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
  /** The `component` of its log lines, e.g. `processor-http`. */
  readonly component: string;
}

/**
 * A service's small HTTP server: `/healthz` (the process answers), `/readyz` (200 when
 * ready, else 503 with the reason), `/metrics` (Prometheus text). Probes are frequent, so
 * requests are not logged.
 */
export function createHealthServer(deps: HealthServerDeps): FastifyInstance {
  // A LogController rather than the top-level option, which fastify 5.12 deprecates (FSTDEP023, a warning at every start).
  const app = Fastify({ loggerInstance: deps.logger.child({ component: deps.component }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const readiness = deps.readiness();
    return readiness.ready ? { status: 'ready' } : reply.code(503).send({ status: 'not ready', reason: readiness.reason });
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  return app;
}

/** Where a consumer-group member is, for `/readyz`. */
export interface ConsumerState {
  readonly stopping: boolean;
  /** The pipelines in force are loaded from `tributary.pipelines`. */
  readonly pipelinesLoaded: boolean;
  /** `start()` got to its end: the first subscription is made. */
  readonly started: boolean;
  /** There is a tenant topic to consume. */
  readonly subscribed: boolean;
  /** The consumer has joined its group and not crashed, stopped or disconnected since. */
  readonly consuming: boolean;
}

/**
 * The readiness of a member that runs tenants' pipelines over their topics (the processor,
 * the notifier): ready once the pipelines in force are loaded and the consumer runs, or
 * there is no tenant topic yet to consume.
 */
export function consumerReadiness(state: ConsumerState): Readiness {
  if (state.stopping) return { ready: false, reason: 'stopping' };
  if (!state.pipelinesLoaded) return { ready: false, reason: 'loading the pipelines in force from tributary.pipelines' };
  if (!state.started) return { ready: false, reason: 'starting' };
  if (state.subscribed && !state.consuming) return { ready: false, reason: 'the consumer is not running: joining the group, re-subscribing or restarting' };
  return { ready: true };
}
