import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createHealthServer, type Readiness } from '@tributary/service';
import type { ProcessorMetrics } from './metrics.js';

export type { Readiness };

export interface ProcessorHttpDeps {
  readonly metrics: ProcessorMetrics;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
}

/** The processor's `/healthz`, `/readyz` (pipelines loaded, consumer running) and `/metrics`. */
export function createProcessorHttp(deps: ProcessorHttpDeps): FastifyInstance {
  return createHealthServer({ metrics: deps.metrics.registry, readiness: deps.readiness, logger: deps.logger, component: 'processor-http' });
}
