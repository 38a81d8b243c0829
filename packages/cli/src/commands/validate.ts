import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { checkFiles, EXIT, pipelineName } from './manifest-files.js';

/**
 * `tributary validate -f FILE…`: schema and compile checks, offline. Exit 0 when all
 * manifests are valid, 1 when any is rejected, 2 when a file can't be read.
 */
export function validateCommand(ctx: CliContext): Command {
  return new Command('validate')
    .description('check LoggingPipeline manifests (schema and compile; YAML or JSON, several documents per file) without contacting anything')
    .requiredOption('-f, --file <path...>', 'manifest files; - reads standard input')
    .action(async (flags: { file: string[] }) => {
      const checked = await checkFiles(ctx, flags.file);
      if (!checked) return void (process.exitCode = EXIT.usage);
      for (const p of checked.pipelines) ctx.out.write(`valid  ${pipelineName(p)}  (${p.file})\n`);
      process.exitCode = checked.rejected ? EXIT.rejected : EXIT.ok;
    });
}
