import { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `tributary control-plane`: the HTTP API that validates, publishes and reports pipelines. */
export function controlPlaneCommand(ctx: CliContext): Command {
  return new Command('control-plane')
    .description('run the control plane (KAFKA_BROKERS, ELASTICSEARCH_URL, TRIBUTARY_ADMIN_TOKEN / TRIBUTARY_TOKENS / TRIBUTARY_TOKENS_FILE) until SIGTERM')
    .option('--port <port>', 'HTTP port (0 picks a free one)', '8080')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .action(async (flags: { port: string; host: string }) => {
      const { runControlPlane } = await import('@tributary/control-plane');
      process.exitCode = await runControlPlane(ctx.env, flags);
    });
}
