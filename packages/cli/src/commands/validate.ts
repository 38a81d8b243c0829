import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { formatManifestError, loadManifests, ManifestValidator } from '@tributary/pipeline';
import type { CliContext } from '../context.js';

/** Exit codes shared by the manifest commands. */
export const EXIT = { ok: 0, rejected: 1, usage: 2 } as const;

/**
 * `tributary validate -f FILE…`: checks LoggingPipeline manifests offline, printing each
 * problem as `file:line:col  path: reason`. Exit 0 when all are valid, 1 when any is
 * rejected, 2 when a file can't be read.
 */
export function validateCommand(ctx: CliContext): Command {
  return new Command('validate')
    .description('check LoggingPipeline manifests (YAML or JSON, several documents per file) without contacting anything')
    .requiredOption('-f, --file <path...>', 'manifest files; - reads standard input')
    .action((flags: { file: string[] }) => {
      const validator = new ManifestValidator();
      let rejected = false;
      for (const file of flags.file) {
        let text: string;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (err) {
          ctx.err.write(`tributary: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
          process.exitCode = EXIT.usage;
          return;
        }
        const name = file === '-' ? '<stdin>' : file;
        const { manifests, errors } = loadManifests(text, { file: name, validator });
        for (const error of errors) ctx.out.write(`${formatManifestError(error)}\n`);
        for (const { manifest } of manifests) ctx.out.write(`valid  ${manifest.metadata.namespace}/${manifest.metadata.name}  (${name})\n`);
        if (errors.length > 0) rejected = true;
        else if (manifests.length === 0) {
          ctx.out.write(`${name}: no manifest found\n`);
          rejected = true;
        }
      }
      process.exitCode = rejected ? EXIT.rejected : EXIT.ok;
    });
}
