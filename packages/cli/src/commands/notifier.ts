import { Command } from 'commander';
import type { NotifierFlags } from '@tributary/notifier';
import type { CliContext } from '../context.js';

/** `tributary notifier`: tells tenants, through their webhooks, that their logs are dead-lettering. */
export function notifierCommand(ctx: CliContext): Command {
  return new Command('notifier')
    .description('read every dlq.<tenant> and deliver grouped, signed dead-letter notifications (KAFKA_BROKERS; TRIBUTARY_NOTIFY_ALLOW; TRIBUTARY_NOTIFY_SECRETS_DIR) until SIGTERM')
    .option('--group <id>', 'consumer group', 'tributary-notifier')
    .option('--tenants <list>', 'only these tenants, comma-separated (default: every dlq.<tenant> topic)')
    .option('--secrets-dir <dir>', 'where signing keys are mounted, <dir>/<tenant>/<secretRef> (default TRIBUTARY_NOTIFY_SECRETS_DIR)')
    .option('--window-seconds <s>', "a subscription's window when its manifest gives none", '60')
    .option('--min-window-seconds <s>', 'the shortest window a manifest may ask for (shorter ones are raised to it)', '10')
    .option('--retry-for-seconds <s>', 'how long a notification is retried (429, 5xx, timeouts) before it is failed (default 900)')
    .option('--timeout-ms <ms>', "one attempt's limit (default 10000)")
    .option('--max-queued <n>', 'notifications waiting per subscription before new ones are suppressed (default 100)')
    .option('--samples <n>', 'dead letters shown per notification (default 3)')
    .option('--metrics-port <port>', 'port of /healthz, /readyz and /metrics (0 picks a free one)', '9095')
    .option('--host <address>', 'address of the HTTP server', '0.0.0.0')
    .action(async (flags: NotifierFlags) => {
      const { runNotifier } = await import('@tributary/notifier');
      process.exitCode = await runNotifier(ctx.env, flags);
    });
}
