import { Command } from 'commander';
import type { BackgroundState, ENGINE_ENV, ENGINE_NAMES } from '@tributary/testkit';
import type { CliContext } from '../context.js';
import { engineArgs, engineOptions, withEngineFlags, type EngineFlags } from './engine-flags.js';

/** `tributary engines …`: real Kafka, Elasticsearch and schema registry for development. */
export function enginesCommand(ctx: CliContext): Command {
  const engines = new Command('engines').description('run real Kafka, Elasticsearch and a schema registry on this machine');

  withEngineFlags(engines.command('start'))
    .description('start engines in the background; prints KAFKA_BROKERS=… lines (also written to <state-dir>/engines.env)')
    .action(async (flags: EngineFlags) => {
      const { startInBackground, ENGINE_ENV, ENGINE_NAMES } = await import('@tributary/testkit');
      const state = await startInBackground({
        stateDir: flags.stateDir,
        command: [...ctx.argv0, 'engines', 'run', ...engineArgs(flags)],
      });
      printEnv(ctx, state, ENGINE_NAMES, ENGINE_ENV);
      ctx.err.write(`engines run in the background (pid ${state.pid}); stop them with: tributary engines stop\n`);
    });

  withEngineFlags(engines.command('run'))
    .description('start engines in the foreground until Ctrl-C (what `start` runs in the background)')
    .action(async (flags: EngineFlags) => {
      const { runInForeground, ENGINE_ENV, ENGINE_NAMES } = await import('@tributary/testkit');
      await runInForeground({
        stateDir: flags.stateDir,
        engines: await engineOptions(flags, ctx.env),
        logger: ctx.logger,
        onReady: (state) => printEnv(ctx, state, ENGINE_NAMES, ENGINE_ENV),
      });
    });

  engines
    .command('status')
    .description('show the engines started from <state-dir> and whether each answers; exit 1 if none run')
    .option('--state-dir <dir>', 'where `start` recorded them', '.tributary')
    .action(async (flags: { stateDir: string }) => {
      const { readBackgroundState, engineAnswers } = await import('@tributary/testkit');
      const state = readBackgroundState(flags.stateDir);
      if (!state) {
        ctx.err.write(`no engines running from ${flags.stateDir}; start them with: tributary engines start\n`);
        process.exitCode = 1;
        return;
      }
      let healthy = true;
      for (const engine of state.engines) {
        const answers = await engineAnswers(engine.name, engine.address);
        healthy &&= answers;
        ctx.out.write(
          `${engine.name.padEnd(15)} ${(answers ? 'up' : 'DOWN').padEnd(5)} ${engine.mode.padEnd(10)} ${engine.address}` +
            (engine.pid ? `  pid ${engine.pid}` : '') +
            (engine.logFile ? `  log ${engine.logFile}` : '') +
            '\n',
        );
      }
      if (!healthy) process.exitCode = 1;
    });

  engines
    .command('stop')
    .description('stop the engines started from <state-dir>; leaves no process behind')
    .option('--state-dir <dir>', 'where `start` recorded them', '.tributary')
    .action(async (flags: { stateDir: string }) => {
      const { stopBackground } = await import('@tributary/testkit');
      const stopped = await stopBackground(flags.stateDir);
      ctx.err.write(stopped ? 'engines stopped\n' : `no engines running from ${flags.stateDir}\n`);
    });

  engines
    .command('prepare')
    .description('download and build the local engines (and kustomize, for the deploy tests) into the cache without starting them (CI does this first)')
    .action(async () => {
      const { installKustomize, prepareEngines, ENGINE_NAMES } = await import('@tributary/testkit');
      await prepareEngines({ env: ctx.env, logger: ctx.logger, only: ENGINE_NAMES });
      // Not an engine: the deploy tests render deploy/ with it.
      await installKustomize({ env: ctx.env, logger: ctx.logger });
    });

  return engines;
}

function printEnv(ctx: CliContext, state: BackgroundState, names: typeof ENGINE_NAMES, env: typeof ENGINE_ENV): void {
  for (const name of names) {
    const value = state.env[env[name]];
    if (value !== undefined) ctx.out.write(`${env[name]}=${value}\n`);
  }
}
