import { Command } from 'commander';
import { runInForeground, type BackgroundState } from '@tributary/testkit';
import type { CliContext } from '../context.js';
import { engineOptions, withEngineFlags, type EngineFlags } from './engine-flags.js';

/**
 * `tributary up` (what `npm start` runs): engines, then every service, in the foreground
 * until Ctrl-C. Services join this command as they are built.
 */
export function upCommand(ctx: CliContext): Command {
  return withEngineFlags(new Command('up'))
    .description('run the whole stack locally (engines, then services) until Ctrl-C, and print where to look')
    .action(async (flags: EngineFlags) => {
      await runInForeground({
        stateDir: flags.stateDir,
        engines: engineOptions(flags, ctx.env),
        logger: ctx.logger,
        onReady: (state) => ctx.out.write(banner(state, flags.stateDir)),
      });
    });
}

function banner(state: BackgroundState, stateDir: string): string {
  const lines = ['', 'Tributary is up. Engines:'];
  for (const engine of state.engines) {
    lines.push(`  ${engine.name.padEnd(15)} ${engine.address}  (${engine.mode}${engine.logFile ? `, log ${engine.logFile}` : ''})`);
  }
  const kafka = state.env['KAFKA_BROKERS'];
  const es = state.env['ELASTICSEARCH_URL'];
  const registry = state.env['SCHEMA_REGISTRY_URL'];
  lines.push('', 'Where to look:');
  if (kafka) lines.push(`  topics:     kcat -b ${kafka} -L`);
  if (es) lines.push(`  indices:    curl -s '${es}/_cat/indices?v'`);
  if (registry) lines.push(`  schemas:    curl -s ${registry}/subjects`);
  lines.push(`  variables:  ${stateDir}/engines.env (source it to point other shells here)`, '', 'Press Ctrl-C to stop everything.', '');
  return lines.join('\n');
}
