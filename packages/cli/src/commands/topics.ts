import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT } from './manifest-files.js';

/**
 * `tributary topics`: each tenant's topics and their partition counts, and `raise` to add
 * partitions to a tenant's logs topic (and its dead-letter topic, kept equal). Kafka can't
 * take partitions away, so there is no lower.
 */
export function topicsCommand(ctx: CliContext): Command {
  const topics = new Command('topics').description("tenants' topics and their partitions (KAFKA_BROKERS); a processor beyond a topic's partition count holds none of it");
  topics
    .command('list', { isDefault: true })
    .description('every logs.<tenant> and dlq.<tenant> with its partition count')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      await withAdmin(ctx, async (admin) => {
        const names = (await admin.listTopics()).filter((t) => /^(logs|dlq)\./.test(t)).sort();
        const metadata = names.length === 0 ? { topics: [] } : await admin.fetchTopicMetadata({ topics: names });
        const rows = metadata.topics.map((t) => ({ topic: t.name, partitions: t.partitions.length })).sort((a, b) => a.topic.localeCompare(b.topic));
        if (flags.json) ctx.out.write(`${JSON.stringify(rows, null, 2)}\n`);
        else ctx.out.write(rows.map((r) => `${r.topic.padEnd(Math.max(...rows.map((x) => x.topic.length)))}  ${r.partitions}`).join('\n') + (rows.length ? '\n' : ''));
      });
    });
  topics
    .command('raise')
    .description("raise a tenant's partition count (logs.<tenant> and dlq.<tenant>): more processors can share it; see docs/processor.md on what it does to order")
    .argument('<tenant>')
    .requiredOption('--partitions <n>', 'the new partition count (more than now)')
    .action(async (tenant: string, flags: { partitions: string }) => {
      const { parseTenant } = await import('@tributary/tenant');
      const parsed = parseTenant(tenant, 'tenant');
      const count = Number(flags.partitions);
      if (!parsed.ok || !Number.isInteger(count) || count < 1) {
        ctx.err.write(`error: ${parsed.ok ? `--partitions "${flags.partitions}": expected a positive integer` : `tenant "${tenant}": ${parsed.errors[0]?.reason}`}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      await withAdmin(ctx, async (admin) => {
        const names = [`logs.${tenant}`, `dlq.${tenant}`];
        const existing = new Set(await admin.listTopics());
        if (!existing.has(names[0] as string)) {
          ctx.err.write(`error: no topic logs.${tenant}: the tenant has no topics yet (its first apply creates them)\n`);
          process.exitCode = EXIT.rejected;
          return;
        }
        const metadata = await admin.fetchTopicMetadata({ topics: names.filter((n) => existing.has(n)) });
        const current = Math.max(...metadata.topics.map((t) => t.partitions.length));
        if (count <= current) {
          ctx.err.write(`error: --partitions ${count}: logs.${tenant} has ${current} already; Kafka can only add partitions\n`);
          process.exitCode = EXIT.rejected;
          return;
        }
        await admin.createPartitions({ topicPartitions: metadata.topics.filter((t) => t.partitions.length < count).map((t) => ({ topic: t.name, count })) });
        ctx.out.write(`logs.${tenant} and dlq.${tenant}: ${current} → ${count} partitions\n`);
      });
    });
  return topics;
}

async function withAdmin(ctx: CliContext, work: (admin: import('kafkajs').Admin) => Promise<void>): Promise<void> {
  const { createKafka, parseBrokers } = await import('@tributary/kafka');
  const admin = createKafka({ brokers: parseBrokers(ctx.env['KAFKA_BROKERS'] ?? ''), clientId: 'tributary-topics' }, ctx.logger).admin();
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.disconnect();
  }
}
