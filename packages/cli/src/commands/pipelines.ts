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
    .description('show the version in force and the last attempt (with its errors) of a pipeline')
    .argument('<tenant>')
    .argument('<name>')
    .action((tenant: string, name: string, flags: RemoteFlags) =>
      run(flags, 'GET', path(tenant, name, '/status'), (body) => {
        const s = body as { accepted: { version: number; appliedAt: string } | null; lastAttempt: { at: string; outcome: string; errors: Array<{ path: string; reason: string }> } };
        const lines = [
          `in force:      ${s.accepted ? `version ${s.accepted.version} (applied ${s.accepted.appliedAt})` : 'nothing'}`,
          `last attempt:  ${s.lastAttempt.outcome} at ${s.lastAttempt.at}`,
          ...s.lastAttempt.errors.map((e) => `  ${e.path}: ${e.reason}`),
        ];
        return `${lines.join('\n')}\n`;
      }),
    );

  const remove = withRemoteFlags(new Command('delete'))
    .description('delete a pipeline; its streams fall back to the next matching pipeline or the default')
    .argument('<tenant>')
    .argument('<name>')
    .action((tenant: string, name: string, flags: RemoteFlags) => run(flags, 'DELETE', path(tenant, name), () => `deleted ${tenant}/${name}\n`));

  return [get, status, remove];
}
