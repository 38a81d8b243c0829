import { Command } from 'commander';
import type { OperatorFlags } from '@tributary/operator';
import type { CliContext } from '../context.js';

/** `tributary operator`: LoggingPipeline resources → the apply chain → tributary.pipelines, with .status. */
export function operatorCommand(ctx: CliContext): Command {
  return new Command('operator')
    .description('watch LoggingPipeline resources, validate and publish them as `tributary apply` does, and report in their .status (KAFKA_BROKERS, ELASTICSEARCH_URL, KUBECONFIG or in-cluster) until SIGTERM')
    .option('--namespaces <list>', 'only these namespaces, comma-separated (default: all)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else the in-cluster service account)')
    .option('--resync-seconds <s>', 'reconcile every resource again this often (default 300)')
    .option('--concurrency <n>', 'resources reconciled at once (default 4)')
    .option('--metrics-port <port>', 'port of /healthz, /readyz and /metrics (0 picks a free one)', '9096')
    .option('--host <address>', 'address of the HTTP server', '0.0.0.0')
    .action(async (flags: OperatorFlags) => {
      const { runOperator } = await import('@tributary/operator');
      process.exitCode = await runOperator(ctx.env, flags);
    });
}
