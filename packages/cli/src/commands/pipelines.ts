import { Command } from 'commander';
import { stringify } from 'yaml';
import type { CliContext } from '../context.js';
import { EXIT } from './manifest-files.js';
import { refusal, remote, withRemoteFlags, type RemoteFlags } from './remote.js';

const path = (tenant: string, name?: string, suffix = ''): string =>
  `/v1/tenants/${encodeURIComponent(tenant)}/pipelines${name ? `/${encodeURIComponent(name)}` : ''}${suffix}`;

/** `tributary get`, `status` and `delete`: reading and removing pipelines on the control plane. */
export function pipelineCommands(ctx: CliContext): Command[] {
  const run = async (flags: RemoteFlags, method: string, url: string, show: (body: unknown, status: number) => string): Promise<void> => {
    const client = remote(ctx, flags);
    if (!client) return void (process.exitCode = EXIT.usage);
    const response = await client.request(method, url);
    if (response.status >= 400) {
      ctx.err.write(`tributary: ${refusal(response.status, response.body)}\n`);
      process.exitCode = EXIT.rejected;
      return;
    }
    ctx.out.write(show(response.body, response.status));
  };

  const get = withRemoteFlags(new Command('get'))
    .description("show a tenant's pipelines, or one pipeline's accepted manifest as YAML")
    .argument('<tenant>')
    .argument('[name]')
    .action((tenant: string, name: string | undefined, flags: RemoteFlags) =>
      run(flags, 'GET', path(tenant, name), (body) => {
        if (name) {
          const { manifest, version, appliedAt } = body as { manifest: unknown; version: number; appliedAt: string };
          return `# version ${version}, applied ${appliedAt}\n${stringify(manifest)}`;
        }
        const { pipelines } = body as { pipelines: Array<{ name: string; version: number; appliedAt: string }> };
        return pipelines.map((p) => `${p.name.padEnd(40)} version ${String(p.version).padEnd(5)} ${p.appliedAt}\n`).join('') || `no pipelines for ${tenant}\n`;
      }),
    );

  const status = withRemoteFlags(new Command('status'))
    .description("show a tenant's pipelines (or one): the version in force, the last apply (with its errors), dead letters in the last hour by class, and each notification subscription's last delivery")
    .argument('<tenant>')
    .argument('[name]')
    .action(async (tenant: string, name: string | undefined, flags: RemoteFlags) => {
      const client = remote(ctx, flags);
      if (!client) return void (process.exitCode = EXIT.usage);
      const overview = await client.request('GET', `/v1/tenants/${encodeURIComponent(tenant)}/status`);
      const detail = name ? await client.request('GET', path(tenant, name, '/status')) : undefined;
      for (const response of [overview, ...(detail ? [detail] : [])]) {
        if (response.status >= 400) {
          ctx.err.write(`tributary: ${refusal(response.status, response.body)}\n`);
          return void (process.exitCode = EXIT.rejected);
        }
      }
      ctx.out.write(showStatus(tenant, overview.body as TenantStatus, name, detail?.body as PipelineStatusBody | undefined));
    });

  const remove = withRemoteFlags(new Command('delete'))
    .description('delete a pipeline; its streams fall back to the next matching pipeline or the default')
    .argument('<tenant>')
    .argument('<name>')
    .action((tenant: string, name: string, flags: RemoteFlags) => run(flags, 'DELETE', path(tenant, name), () => `deleted ${tenant}/${name}\n`));

  return [get, status, remove];
}

interface PipelineStatusBody {
  accepted: { version: number; appliedAt: string } | null;
  lastAttempt: { at: string; outcome: string; errors: Array<{ path: string; reason: string }> };
}

interface TenantStatus {
  deadLettersLastHour: { since: string; total: number; complete: boolean; withoutPipeline: Record<string, number> };
  pipelines: Array<{
    name: string;
    version: number | null;
    appliedAt: string | null;
    lastAttempt: { at: string; outcome: string } | null;
    deadLettersLastHour: Record<string, number>;
    notifications: Array<{ subscription: number; channel: string; destination: string; last: { at: string; outcome: string; count: number; class: string; attempts: number; status?: number; reason?: string } }>;
  }>;
}

/** `tributary status`'s text: per pipeline, what is in force, its dead letters and its notifications. */
export function showStatus(tenant: string, status: TenantStatus, name?: string, detail?: PipelineStatusBody): string {
  const byClass = (counts: Record<string, number>): string => Object.entries(counts).map(([cls, n]) => `${cls} ${n}`).join(', ') || 'none';
  const { deadLettersLastHour: hour } = status;
  const lines: string[] = [];
  if (!name) {
    lines.push(`${tenant}: ${hour.total} dead letter${hour.total === 1 ? '' : 's'} in the last hour (since ${hour.since})${hour.complete ? '' : ' — too many to split exactly by class; the split below counts the first ones'}`);
    if (Object.keys(hour.withoutPipeline).length > 0) lines.push(`  before any pipeline (records that did not decode): ${byClass(hour.withoutPipeline)}`);
  }
  const pipelines = status.pipelines.filter((p) => !name || p.name === name);
  if (!name && pipelines.length === 0) lines.push(`no pipelines for ${tenant}`);
  for (const p of pipelines) {
    if (detail) {
      lines.push(`in force:      ${detail.accepted ? `version ${detail.accepted.version} (applied ${detail.accepted.appliedAt})` : 'nothing'}`);
      lines.push(`last attempt:  ${detail.lastAttempt.outcome} at ${detail.lastAttempt.at}`, ...detail.lastAttempt.errors.map((e) => `  ${e.path}: ${e.reason}`));
    } else {
      lines.push('', `${p.name}  ${p.version === null ? 'nothing in force' : `version ${p.version} (applied ${p.appliedAt})`}${p.lastAttempt ? `; last apply ${p.lastAttempt.outcome} at ${p.lastAttempt.at}` : ''}`);
    }
    lines.push(`  dead letters, last hour: ${byClass(p.deadLettersLastHour)}`);
    if (p.notifications.length === 0) lines.push('  notifications: none delivered yet (or no subscription)');
    for (const n of p.notifications) {
      const answer = n.last.status !== undefined ? `, answered ${n.last.status}` : '';
      const why = n.last.outcome !== 'delivered' && n.last.reason ? `: ${n.last.reason}` : '';
      lines.push(`  notify[${n.subscription}] ${n.channel} ${n.destination}: ${n.last.outcome} at ${n.last.at} (${n.last.count} ${n.last.class} dead letters, ${n.last.attempts} attempt${n.last.attempts === 1 ? '' : 's'}${answer})${why}`);
    }
  }
  if (name && pipelines.length === 0 && detail) {
    lines.push(`in force:      ${detail.accepted ? `version ${detail.accepted.version}` : 'nothing'}`, `last attempt:  ${detail.lastAttempt.outcome} at ${detail.lastAttempt.at}`);
  }
  return `${lines.join('\n')}\n`;
}
