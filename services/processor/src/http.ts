import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ProcessorMetrics } from './metrics.js';

/** Whether the processor should receive traffic; when not, why (a fixed sentence, no record contents). */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface ProcessorHttpDeps {
  readonly metrics: ProcessorMetrics;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
}

/**
 * The processor's small HTTP server: `/healthz` (the process answers), `/readyz` (200 once
 * the pipelines are loaded and the consumer runs, else 503 with the reason), `/metrics`
 * (Prometheus text). Probes are frequent, so requests are not logged.
 */
export function createProcessorHttp(deps: ProcessorHttpDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger.child({ component: 'processor-http' }) as FastifyBaseLogger, disableRequestLogging: true });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const readiness = deps.readiness();
    return readiness.ready ? { status: 'ready' } : reply.code(503).send({ status: 'not ready', reason: readiness.reason });
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));
  return app;
}
