import { Command } from 'commander';
import type { TenantLag } from '@tributary/kafka';
import type { CliContext } from '../context.js';
import { parseDurationSeconds } from '../duration.js';
import { EXIT } from './manifest-files.js';

interface LagFlags {
  group: string;
  tenants?: string;
  interval: string;
  target: string;
  partitions?: boolean;
  json?: boolean;
}

/** `90s`, `15m`, `2h` → seconds; undefined when it is none of those. */
export function parseSeconds(value: string): number | undefined {
  return parseDurationSeconds(value, 'smh');
}

/** A duration to read: `2h 5m`, `40s`, `never`. */
function duration(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.ceil(seconds / 60);
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * `tributary lag`: for every tenant (or those given), the processor group's lag per
 * partition, production and consumption rates over an interval, the time to drain at those
 * rates, and how many processors would drain it within a target. Reads Kafka directly
 * (KAFKA_BROKERS): it is the SRE's view, not a tenant's.
 */
export function lagCommand(ctx: CliContext): Command {
  return new Command('lag')
    .description("the processor group's lag per tenant: records behind, in and out per second, time to drain, processors needed for a target (KAFKA_BROKERS)")
    .option('--group <id>', 'consumer group', 'tributary-processor')
    .option('--tenants <list>', 'only these tenants, comma-separated (default: every logs.<tenant> topic)')
    .option('--interval <duration>', 'how long to measure the rates over, e.g. 10s', '10s')
    .option('--target <duration>', 'the time to drain to size the group for, e.g. 15m', '15m')
    .option('--partitions', 'one line per partition as well')
    .option('--json', 'print JSON')
    .action(async (flags: LagFlags) => {
      const interval = parseSeconds(flags.interval);
      const target = parseSeconds(flags.target);
      if (!interval || !target) {
        ctx.err.write(`error: --${interval ? 'target' : 'interval'} "${interval ? flags.target : flags.interval}": expected a duration like 30s, 15m or 2h\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      const { createKafka, parseBrokers, sampleLag, summarizeLag } = await import('@tributary/kafka');
      const { parseTenant } = await import('@tributary/tenant');
      const tenants = flags.tenants?.split(',').map((t) => t.trim()).filter((t) => t !== '');
      for (const tenant of tenants ?? []) {
        const parsed = parseTenant(tenant, '--tenants');
        if (!parsed.ok) {
          ctx.err.write(`error: --tenants "${tenant}": ${parsed.errors[0]?.reason}\n`);
          process.exitCode = EXIT.usage;
          return;
        }
      }
      const admin = createKafka({ brokers: parseBrokers(ctx.env['KAFKA_BROKERS'] ?? ''), clientId: 'tributary-lag' }, ctx.logger).admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const topics = (tenants ? tenants.map((t) => `logs.${t}`) : [...existing].filter((t) => t.startsWith('logs.'))).filter((t) => existing.has(t)).sort();
        const missing = (tenants ?? []).filter((t) => !existing.has(`logs.${t}`));
        for (const tenant of missing) ctx.err.write(`no topic logs.${tenant}: the tenant has not applied a pipeline or produced yet\n`);
        const first = await sampleLag(admin, flags.group, topics);
        // On stderr, so --json output stays one document.
        ctx.err.write(`measuring rates over ${interval}s...\n`);
        await new Promise((resolve) => setTimeout(resolve, interval * 1000));
        const second = await sampleLag(admin, flags.group, topics);
        const report = summarizeLag(first, second, target);
        if (flags.json) ctx.out.write(`${JSON.stringify({ group: flags.group, members: second.members, intervalSeconds: interval, targetSeconds: target, tenants: report }, null, 2)}\n`);
        else ctx.out.write(table(report, flags, second.members, target));
      } finally {
        await admin.disconnect();
      }
    });
}

function table(report: readonly TenantLag[], flags: LagFlags, members: number, target: number): string {
  const rate = (n: number) => n.toFixed(n < 10 ? 1 : 0);
  const rows: string[][] = [['TENANT', 'PARTITIONS', 'LAG', 'IN/S', 'OUT/S', 'DRAINS IN', `PROCESSORS FOR ${duration(target)}`]];
  for (const t of report) {
    rows.push([t.tenant, `${t.partitions.length}`, `${t.lag}`, rate(t.producedPerSecond), rate(t.consumedPerSecond), duration(t.drainSeconds), t.processorsForTarget === null ? '-' : `${t.processorsForTarget}`]);
    if (flags.partitions) for (const p of t.partitions) rows.push(['', `#${p.partition}`, `${p.lag}`, rate(p.producedPerSecond), rate(p.consumedPerSecond), '', '']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  return `group ${flags.group}: ${members} member${members === 1 ? '' : 's'}\n${lines.join('\n')}\n`;
}
