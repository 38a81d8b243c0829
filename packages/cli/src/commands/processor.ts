import { Command } from 'commander';
import type { ProcessorFlags } from '@tributary/processor';
import type { CliContext } from '../context.js';

/** `tributary processor`: one member of the group that runs tenants' pipelines into Elasticsearch. */
export function processorCommand(ctx: CliContext): Command {
  return new Command('processor')
    .description('run a processor (KAFKA_BROKERS, ELASTICSEARCH_URL, optional SCHEMA_REGISTRY_URL) until SIGTERM; start more to scale')
    .option('--group <id>', 'consumer group', 'tributary-processor')
    .option('--concurrency <n>', 'partitions processed at once', '4')
    .option('--metrics-port <port>', 'port of /healthz, /readyz and /metrics (0 picks a free one)', '9090')
    .option('--tenants <list>', 'only these tenants, comma-separated (default: every logs.<tenant> topic)')
    .option('--max-bulk-bytes <size>', 'send a _bulk request once this much is queued (default 5MiB)')
    .option('--max-bulk-documents <n>', '…or this many documents (default 10000)')
    .option('--linger-ms <ms>', '…or once the oldest queued document waited this long (default 50)')
    .option('--max-in-flight-bulks <n>', '_bulk requests outstanding at once (default 4)')
    .option('--max-in-flight-bytes <size>', 'bytes in flight in this process; at the limit fetching stops (default 64MiB)')
    .option('--max-in-flight-bytes-per-tenant <size>', "bytes in flight of one tenant; at the limit its partitions pause (default 32MiB)")
    .option('--max-in-flight-bytes-per-partition <size>', 'bytes in flight of one partition; at the limit it pauses (default 8MiB)')
    .option('--batch-time-budget-ms <ms>', "time one partition's batch may take before the rest waits for the next fetch (default 250)")
    .option('--shutdown-timeout-ms <ms>', 'on SIGTERM, how long work in flight may finish before it is left uncommitted (default 10000)')
    .action(async (flags: ProcessorFlags) => {
      const { runProcessor } = await import('@tributary/processor');
      process.exitCode = await runProcessor(ctx.env, flags);
    });
}
