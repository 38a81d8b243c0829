import { Command } from 'commander';
import { envelopeMessage } from '@tributary/envelope';
import { isRfc3339Time } from '@tributary/pipeline';
import type { CliContext } from '../context.js';
import { parseDurationSeconds } from '../duration.js';
import { EXIT } from './manifest-files.js';
import { refusal, remote, withRemoteFlags, type Remote, type RemoteFlags } from './remote.js';

interface DlqFlags extends RemoteFlags {
  tenant: string;
  pipeline?: string;
  class?: string;
  since?: string;
  until?: string;
  limit?: string;
  dryRun?: boolean;
  rate?: string;
  resume?: string;
  json?: boolean;
}

interface DeadLetter {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  cause: { class: string; message: string; pipeline?: string; version?: number; rule?: number; topic: string; partition: number; offset: string; firstFailure: string };
  replayCount: number;
  headers: Record<string, string>;
  value: string | null;
  valueBytes: number;
  truncated: boolean;
}

/**
 * A time for `--since`/`--until`: RFC 3339, or a duration back from now (`90s`, `15m`,
 * `2h`, `7d`). Undefined with the reason when it is neither.
 */
export function parseWhen(value: string, now = Date.now()): { ok: true; iso: string } | { ok: false; reason: string } {
  const back = parseDurationSeconds(value);
  if (back !== undefined) return { ok: true, iso: new Date(now - back * 1000).toISOString() };
  if (isRfc3339Time(value)) return { ok: true, iso: value };
  return { ok: false, reason: 'expected an RFC 3339 time (2026-12-03T10:00:00Z) or a duration back from now (90s, 15m, 2h, 7d)' };
}

/** `tributary dlq list | show | replay | purge`: a tenant's dead letters, through the control plane. */
export function dlqCommand(ctx: CliContext): Command {
  const dlq = new Command('dlq').description("look at, replay and purge a tenant's dead letters (through the control plane, scoped by the token)");

  const scoped = (command: Command, { filter = true }: { filter?: boolean } = {}): Command => {
    withRemoteFlags(command).requiredOption('--tenant <tenant>', 'the tenant (namespace)');
    if (filter) {
      command
        .option('--pipeline <name>', 'only this pipeline')
        .option('--class <class>', 'only this class: decode, parse, schema, mapping, rejected, budget')
        .option('--since <time>', 'from this time: RFC 3339, or back from now (15m, 2h, 7d)');
    }
    return command.option('--until <time>', 'up to this time (inclusive)');
  };

  /** The filter as the API takes it; undefined (after saying why) when a time is not one. */
  const filterOf = (flags: DlqFlags): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    for (const field of ['since', 'until'] as const) {
      const value = flags[field];
      if (value === undefined) continue;
      const when = parseWhen(value);
      if (!when.ok) {
        ctx.err.write(`tributary: --${field} ${JSON.stringify(value)}: ${when.reason}\n`);
        return undefined;
      }
      out[field] = when.iso;
    }
    if (flags.pipeline) out['pipeline'] = flags.pipeline;
    if (flags.class) out['class'] = flags.class;
    return out;
  };

  const call = async (flags: DlqFlags, method: string, suffix: string, body?: unknown): Promise<unknown> => {
    const client: Remote | undefined = remote(ctx, flags);
    if (!client) {
      process.exitCode = EXIT.usage;
      return undefined;
    }
    const response = await client.request(method, `/v1/tenants/${encodeURIComponent(flags.tenant)}/deadletters${suffix}`, body === undefined ? undefined : JSON.stringify(body), 'application/json');
    if (response.status >= 400) {
      const errors = (response.body as { errors?: Array<{ path: string; reason: string }> } | undefined)?.errors;
      ctx.err.write(`tributary: ${errors ? errors.map((e) => `${e.path}: ${e.reason}`).join('; ') : refusal(response.status, response.body)}\n`);
      process.exitCode = response.status === 400 ? EXIT.usage : EXIT.rejected;
      return undefined;
    }
    return response.body;
  };

  const list = async (flags: DlqFlags, detail: boolean): Promise<void> => {
    const filter = filterOf(flags);
    if (!filter) return void (process.exitCode = EXIT.usage);
    const query = new URLSearchParams({ ...filter, ...(flags.limit ? { limit: flags.limit } : {}) });
    const body = (await call(flags, 'GET', `?${query}`)) as { deadLetters: DeadLetter[]; complete: boolean } | undefined;
    if (!body) return;
    if (flags.json) return void ctx.out.write(`${JSON.stringify(body, null, 2)}\n`);
    for (const d of body.deadLetters) {
      const line = d.value === null ? undefined : envelopeMessage(d.value);
      const pipeline = d.cause.pipeline ? `${d.cause.pipeline} v${d.cause.version ?? '?'}` : '(no pipeline)';
      const rule = d.cause.rule === undefined || Number.isNaN(d.cause.rule) ? '' : ` step ${d.cause.rule}`;
      const replays = d.replayCount > 0 ? ` replayed ${d.replayCount}×` : '';
      if (!detail) {
        // One line each; the value is a log line: control characters shown escaped, never sent to the terminal.
        ctx.out.write(`${d.timestamp}  ${d.partition}/${d.offset}  ${d.cause.class}${rule}  ${pipeline}${replays}  ${printable(d.cause.message, 80)}  ${printable(line ?? d.value ?? '(no value)', 80)}\n`);
        continue;
      }
      ctx.out.write(
        [
          `dead letter ${d.partition}/${d.offset} at ${d.timestamp}${replays}`,
          `  class:    ${d.cause.class}${rule}`,
          `  pipeline: ${pipeline}`,
          `  error:    ${printable(d.cause.message, 4096)}`,
          `  from:     ${d.cause.topic}/${d.cause.partition}/${d.cause.offset}, first failed ${d.cause.firstFailure}`,
          `  key:      ${d.key === null ? '(none)' : printable(d.key, 200)}`,
          ...(line === undefined ? [] : [`  line:     ${printable(line, 4096)}`]),
          ...Object.entries(d.headers).filter(([name]) => !name.startsWith('tributary.')).map(([name, value]) => `  header:   ${printable(name, 100)}: ${printable(value, 200)}`),
          `  value (${d.valueBytes} bytes${d.truncated ? ', cut' : ''}):`,
          `    ${printable(d.value ?? '(none)', 100_000)}`,
          '',
        ].join('\n') + '\n',
      );
    }
    if (body.deadLetters.length === 0) ctx.out.write(`no dead letters for ${flags.tenant} match\n`);
    else if (!body.complete) ctx.out.write(`(the first ${body.deadLetters.length}; more match: narrow --since/--until or raise --limit)\n`);
  };

  scoped(dlq.command('list').description('one line per dead letter, oldest first'))
    .option('--limit <n>', 'at most this many (1–1000)', '100')
    .option('--json', 'the API’s JSON')
    .action((flags: DlqFlags) => list(flags, false));
  scoped(dlq.command('show').description('each dead letter in full: cause, coordinates, headers, value'))
    .option('--limit <n>', 'at most this many (1–1000)', '20')
    .option('--json', 'the API’s JSON')
    .action((flags: DlqFlags) => list(flags, true));

  scoped(dlq.command('replay').description('produce the dead letters again to logs.<tenant>, byte for byte, through the pipeline now in force'))
    .option('--dry-run', 'say how many would go, send nothing')
    .option('--rate <n>', 'records per second at most (default 500), so live traffic keeps flowing')
    .option('--resume <token>', 'go on with a replay that stopped (the token it printed)')
    .action(async (flags: DlqFlags) => {
      const filter = filterOf(flags);
      if (!filter) return void (process.exitCode = EXIT.usage);
      const rate = flags.rate === undefined ? undefined : Number(flags.rate);
      if (rate !== undefined && (!Number.isSafeInteger(rate) || rate < 1)) {
        ctx.err.write(`tributary: --rate ${JSON.stringify(flags.rate)}: expected a whole number ≥ 1\n`);
        return void (process.exitCode = EXIT.usage);
      }
      let resume = flags.resume;
      const totals = { matched: 0, replayed: 0, skipped: 0 };
      for (;;) {
        const body = (await call(flags, 'POST', '/replay', { ...(resume ? { resume } : filter), dryRun: flags.dryRun === true, maxRecords: 10_000, ...(rate ? { ratePerSecond: rate } : {}) })) as
          | { replayId: string; matched: number; replayed: number; skipped: number; total?: number; remaining?: number; resume?: string; done: boolean }
          | undefined;
        if (!body) {
          if (resume) ctx.err.write(`tributary: stopped; go on with: tributary dlq replay --tenant ${flags.tenant} --resume ${resume}\n`);
          return;
        }
        totals.matched += body.matched;
        totals.replayed += body.replayed;
        totals.skipped += body.skipped;
        const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped (replayed too often already)` : '';
        // Progress while there is more: records read of those the replay reads, matching or not.
        const read = !body.done && body.total !== undefined && body.remaining !== undefined ? `, ${body.total - body.remaining} of ${body.total} records read` : '';
        ctx.out.write(flags.dryRun ? `would replay ${totals.matched - totals.skipped} of ${totals.matched} matching${skipped}${read}\n` : `replay ${body.replayId}: ${totals.replayed} replayed of ${totals.matched} matching so far${skipped}${read}${body.done ? ', done' : ''}\n`);
        if (body.done || !body.resume) return;
        resume = body.resume;
      }
    });

  scoped(dlq.command('purge').description('delete the dead letters up to a time (the start of every partition of dlq.<tenant>)'), { filter: false })
    .option('--dry-run', 'say what would go, delete nothing')
    .action(async (flags: DlqFlags) => {
      if (!flags.until) {
        ctx.err.write('tributary: --until is required: dead letters up to this time go\n');
        return void (process.exitCode = EXIT.usage);
      }
      const filter = filterOf(flags);
      if (!filter) return void (process.exitCode = EXIT.usage);
      const body = (await call(flags, 'POST', '/purge', { until: filter['until'], dryRun: flags.dryRun === true })) as { records: number; partitions: Array<{ partition: number; from: string; to: string; records: number }> } | undefined;
      if (!body) return;
      for (const p of body.partitions) ctx.out.write(`partition ${p.partition}: ${p.records} dead letters (offsets ${p.from}–${p.to})\n`);
      ctx.out.write(`${flags.dryRun ? 'would purge' : 'purged'} ${body.records} dead letters of ${flags.tenant}\n`);
    });

  return dlq;
}

/** A log line for a terminal: control characters (ANSI escapes among them) shown as \xNN, cut. */
function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const shown = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return shown.length > max ? `${shown.slice(0, max)}…` : shown;
}
