import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { dryRunLine, type PipelineInput } from '@tributary/pipeline';
import type { CliContext } from '../context.js';
import { checkFiles, EXIT, pipelineName } from './manifest-files.js';

/**
 * `tributary dry-run -f FILE --input LOGFILE`: runs a pipeline over sample lines and prints
 * one JSON line per input line: the document and its index, the drop, or the dead letter.
 */
export function dryRunCommand(ctx: CliContext): Command {
  return new Command('dry-run')
    .description('run a pipeline over sample log lines and print the resulting documents, drops and dead letters as JSON lines')
    .requiredOption('-f, --file <path>', 'manifest file')
    .requiredOption('-i, --input <path>', 'sample lines, one record per line; - reads standard input')
    .option('-p, --pipeline <name>', 'which pipeline of the file (default: the first)')
    .option('--envelope', 'lines are JSON envelopes ({"message":…, "time":…, "kubernetes":…}) rather than raw messages')
    .action(async (flags: { file: string; input: string; pipeline?: string; envelope?: boolean }) => {
      const checked = await checkFiles(ctx, [flags.file]);
      if (!checked) return void (process.exitCode = EXIT.usage);
      if (checked.rejected) return void (process.exitCode = EXIT.rejected);
      const chosen = flags.pipeline ? checked.pipelines.find((p) => p.loaded.manifest.metadata.name === flags.pipeline) : checked.pipelines[0];
      if (!chosen) {
        ctx.err.write(`tributary: no pipeline "${flags.pipeline}" in ${flags.file}; there are ${checked.pipelines.map(pipelineName).join(', ')}\n`);
        return void (process.exitCode = EXIT.usage);
      }
      let lines: string[];
      try {
        lines = readFileSync(flags.input === '-' ? 0 : flags.input, 'utf8').split('\n');
      } catch (err) {
        ctx.err.write(`tributary: cannot read ${flags.input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        return void (process.exitCode = EXIT.usage);
      }
      if (lines[lines.length - 1] === '') lines.pop();
      lines.forEach((line, i) => {
        const input = flags.envelope ? envelope(line) : { message: line };
        if ('error' in input) {
          ctx.out.write(`${JSON.stringify({ line: i + 1, outcome: 'invalid-input', reason: input.error })}\n`);
          return;
        }
        ctx.out.write(`${JSON.stringify(dryRunLine(chosen.program, input, i + 1))}\n`);
      });
      process.exitCode = EXIT.ok;
    });
}

function envelope(line: string): PipelineInput | { error: string } {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') return value as PipelineInput;
    return { error: 'not a JSON object with a string "message"' };
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
}
