import { createLogger } from '@tributary/logger';
import { parseBrokers } from '@tributary/kafka';
import { Processor } from './processor.js';

/** Runs a processor until SIGINT/SIGTERM; the only place that reads its environment. */
export async function runProcessor(env: NodeJS.ProcessEnv, flags: { group?: string; concurrency?: string; metricsPort?: string; host?: string }): Promise<number> {
  const logger = createLogger({ name: 'processor', level: env['LOG_LEVEL'] });
  let processor: Processor;
  try {
    const brokers = parseBrokers(env['KAFKA_BROKERS'] ?? '');
    const elasticsearchUrl = env['ELASTICSEARCH_URL'];
    if (!elasticsearchUrl) throw new Error('ELASTICSEARCH_URL is not set');
    const concurrency = Number(flags.concurrency ?? 4);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency ${flags.concurrency}: expected a positive integer`);
    const metricsPort = Number(flags.metricsPort ?? 9090);
    if (!/^\d+$/.test(flags.metricsPort ?? '9090') || metricsPort > 65535) throw new Error(`--metrics-port ${flags.metricsPort}: not a port number (0 picks a free one)`);
    processor = new Processor({
      brokers,
      elasticsearchUrl,
      schemaRegistryUrl: env['SCHEMA_REGISTRY_URL'] || undefined,
      groupId: flags.group ?? 'tributary-processor',
      concurrency,
      metricsPort,
      host: flags.host ?? '0.0.0.0',
      logger,
    });
  } catch (err) {
    logger.fatal({ err }, 'invalid configuration');
    return 2;
  }
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopping');
      void processor.stop().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  try {
    await processor.start();
    logger.info({ metrics: processor.metricsAddress }, 'processor running');
  } catch (err) {
    logger.fatal({ err }, 'processor failed to start');
    await processor.stop().catch(() => undefined);
    return 1;
  }
  await stopped;
  return 0;
}
