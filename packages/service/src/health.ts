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
