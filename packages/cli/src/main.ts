// First: @tributary/kafka replaces parts of kafkajs that kafkajs takes when it loads (produce-path.ts).
import '@tributary/kafka';
import { CommanderError } from 'commander';
import { createLogger } from '@tributary/logger';
import { pino } from 'pino';
import { buildProgram } from './program.js';

/**
 * Entry point of the `tributary` command; the only place that reads the environment.
 * Returns the exit code instead of exiting, so stopping engines can finish first.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let logger;
  try {
    logger = createLogger({ name: 'tributary', level: env['LOG_LEVEL'], destination: pino.destination({ dest: 2, sync: true }) });
  } catch (err) {
    process.stderr.write(`tributary: ${(err as Error).message}\n`);
    return 2;
  }
  const program = buildProgram({ env, logger, out: process.stdout, err: process.stderr, argv0: argv.slice(0, 2) });
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Help is a success; any other parse failure is a usage error (exit 2).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`tributary: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
