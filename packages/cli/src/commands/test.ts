import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { checkFiles, EXIT, pipelineName } from './manifest-files.js';

/**
 * `tributary test -f FILE…`: runs each manifest's own tests and shows, for every failing
 * case, what was expected and what came out. Exit 0 all pass, 1 any fails or is invalid.
 */
export function testCommand(ctx: CliContext): Command {
  return new Command('test')
    .description("run the tests in LoggingPipeline manifests (spec.tests) and show expected vs actual for each failing case")
    .requiredOption('-f, --file <path...>', 'manifest files; - reads standard input')
    .action(async (flags: { file: string[] }) => {
      const { runPipelineTests } = await import('@tributary/pipeline');
      const checked = await checkFiles(ctx, flags.file);
      if (!checked) return void (process.exitCode = EXIT.usage);
      let failed = 0;
      let passed = 0;
      for (const p of checked.pipelines) {
        const results = runPipelineTests(p.loaded.manifest, p.program);
        ctx.out.write(`${pipelineName(p)}  (${p.file})${results.length === 0 ? ': no tests' : ''}\n`);
        for (const result of results) {
          const where = p.loaded.locate(['spec', 'tests', result.index]);
          if (result.passed) {
            passed++;
            ctx.out.write(`  ✔ ${result.name}\n`);
            continue;
          }
          failed++;
          ctx.out.write(`  ✖ ${result.name}  (${p.file}${where ? `:${where.line}:${where.col}` : ''})\n`);
          for (const m of result.mismatches) {
            ctx.out.write(`      ${m.what}\n        - expected: ${show(m.expected)}\n        + actual:   ${show(m.actual)}\n`);
          }
        }
      }
      ctx.out.write(`${passed} passed, ${failed} failed\n`);
      process.exitCode = checked.rejected || failed > 0 ? EXIT.rejected : EXIT.ok;
    });
}

function show(value: unknown): string {
  return value === undefined ? '(absent)' : typeof value === 'string' ? value : JSON.stringify(value);
}
