import { Command } from 'commander';
import { runProcessor } from '@tributary/processor';
import type { CliContext } from '../context.js';

/** `tributary processor`: one member of the group that runs tenants' pipelines into Elasticsearch. */
export function processorCommand(ctx: CliContext): Command {
  return new Command('processor')
    .description('run a processor (KAFKA_BROKERS, ELASTICSEARCH_URL, optional SCHEMA_REGISTRY_URL) until SIGTERM; start more to scale')
    .option('--group <id>', 'consumer group', 'tributary-processor')
    .option('--concurrency <n>', 'partitions processed at once', '4')
    .option('--metrics-port <port>', 'port of /healthz, /readyz and /metrics (0 picks a free one)', '9090')
    .action(async (flags: { group: string; concurrency: string; metricsPort: string }) => {
      process.exitCode = await runProcessor(ctx.env, flags);
    });
}
