import { Command } from 'commander';
import type { ForwarderFlags } from '@tributary/forwarder';
import type { CliContext } from '../context.js';

/** `tributary forwarder`: the node agent that ships container logs to logs.<namespace>. */
export function forwarderCommand(ctx: CliContext): Command {
  return new Command('forwarder')
    .description('follow container log files into logs.<namespace> (KAFKA_BROKERS; NODE_NAME) until SIGTERM; one per node')
    .option('--root <dir>', 'the kubelet pod log root', '/var/log/pods')
    .option('--node <name>', 'this node (default NODE_NAME): part of every record id')
    .option('--state-dir <dir>', 'where the position file and the spool live (a hostPath that outlives the pod)')
    .option('--include-namespaces <list>', 'only these namespaces, comma-separated')
    .option('--exclude-namespaces <list>', 'not these namespaces')
    .option('--include-containers <list>', 'only these container names')
    .option('--exclude-containers <list>', 'not these container names')
    .option('--max-line-bytes <n>', 'longer lines are shipped in pieces of this size (default 524288, at most 786432)')
    .option('--spool-max-bytes <n>', 'disk the spool may take while Kafka is away or slow; at the limit files are not read (default 536870912)')
    .option('--spool-max-bytes-per-tenant <n>', 'spool one tenant may take (default a quarter of --spool-max-bytes)')
    .option('--spool-after-ms <ms>', 'a produce unacknowledged this long has its records spooled, and reading goes on (default 2000)')
    .option('--shutdown-timeout-ms <ms>', 'on SIGTERM, how long to go on sending before persisting the rest to the spool (default 10000)')
    .option('--metrics-port <port>', 'port of /healthz, /readyz and /metrics (0 picks a free one)', '9091')
    .action(async (flags: ForwarderFlags) => {
      const { runForwarder } = await import('@tributary/forwarder');
      const code = await runForwarder(ctx.env, flags);
      process.exitCode = code;
      // Stopped, and what wasn't sent is spooled: a connect to an unreachable broker that
      // kafkajs goes on retrying (it can't be cancelled) must not keep the process alive.
      setTimeout(() => process.exit(code), 200).unref();
    });
}
