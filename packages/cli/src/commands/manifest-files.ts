import { readFileSync } from 'node:fs';
import type { CheckedPipeline } from '@tributary/pipeline';
import type { CliContext } from '../context.js';

/** Exit codes shared by the manifest commands. */
export const EXIT = { ok: 0, rejected: 1, usage: 2 } as const;

export interface CheckedFiles {
  readonly pipelines: Array<CheckedPipeline & { readonly file: string }>;
  /** Some document had errors (already printed). */
  readonly rejected: boolean;
}

/**
 * Reads, validates and compiles manifest files, printing every error as
 * `file:line:col  path: reason`. Undefined when a file can't be read (a usage error,
 * already reported).
 */
export async function checkFiles(ctx: CliContext, files: readonly string[]): Promise<CheckedFiles | undefined> {
  const { checkManifests, formatManifestError, ManifestValidator } = await import('@tributary/pipeline');
  const validator = new ManifestValidator();
  const pipelines: Array<CheckedPipeline & { file: string }> = [];
  let rejected = false;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      ctx.err.write(`tributary: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      return undefined;
    }
    const name = file === '-' ? '<stdin>' : file;
    const { pipelines: checked, errors } = checkManifests(text, { file: name, validator });
    for (const error of errors) ctx.out.write(`${formatManifestError(error)}\n`);
    if (errors.length > 0) rejected = true;
    else if (checked.length === 0) {
      ctx.out.write(`${name}: no manifest found\n`);
      rejected = true;
    }
    pipelines.push(...checked.map((p) => ({ ...p, file: name })));
  }
  return { pipelines, rejected };
}

export const pipelineName = (p: CheckedPipeline): string => `${p.loaded.manifest.metadata.namespace}/${p.loaded.manifest.metadata.name}`;
