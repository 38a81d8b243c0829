import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { ManifestError } from '@tributary/pipeline';
import type { CliContext } from '../context.js';
import { EXIT } from './manifest-files.js';
import { refusal, remote, withRemoteFlags, type RemoteFlags } from './remote.js';

/**
 * `tributary apply -f FILE…`: sends each manifest document to the control plane, which
 * validates, tests and publishes it. Errors come back with positions in the file.
 */
export function applyCommand(ctx: CliContext): Command {
  return withRemoteFlags(new Command('apply'))
    .description('apply LoggingPipeline manifests through the control plane (validated, tested, then hot-reloaded everywhere)')
    .requiredOption('-f, --file <path...>', 'manifest files; - reads standard input')
    .option('--if-match <version>', 'apply only if this version is in force (0: only if the pipeline is new)')
    .action(async (flags: RemoteFlags & { file: string[]; ifMatch?: string }) => {
      const { formatManifestError } = await import('@tributary/pipeline');
      const client = remote(ctx, flags);
      if (!client) return void (process.exitCode = EXIT.usage);
      let rejected = false;
      for (const file of flags.file) {
        let text: string;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (err) {
          ctx.err.write(`tributary: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
          return void (process.exitCode = EXIT.usage);
        }
        const name = file === '-' ? '<stdin>' : file;
        for (const document of splitDocuments(text)) {
          if (!document.tenant || !document.name) {
            ctx.out.write(`${name}:${document.line}:1  (document): metadata.name and metadata.namespace are required to apply\n`);
            rejected = true;
            continue;
          }
          const path = `/v1/tenants/${encodeURIComponent(document.tenant)}/pipelines/${encodeURIComponent(document.name)}`;
          const response = await client.request('PUT', path, document.text);
          const body = response.body as { outcome?: string; version?: number; errors?: ManifestError[] };
          if (response.status === 200 || response.status === 201) {
            ctx.out.write(`${body.outcome}  ${document.tenant}/${document.name}  version ${body.version}\n`);
          } else if (response.status === 422 && body.errors) {
            rejected = true;
            for (const error of body.errors) {
              const line = error.line === undefined ? document.line : error.line + document.line - 1;
              ctx.out.write(`${formatManifestError({ ...error, file: name, line })}\n`);
            }
          } else {
            rejected = true;
            ctx.out.write(`${name}:${document.line}:1  ${document.tenant}/${document.name}: refused (${refusal(response.status, response.body)})\n`);
          }
        }
      }
      process.exitCode = rejected ? EXIT.rejected : EXIT.ok;
    });
}

interface SourceDocument {
  readonly text: string;
  /** 1-based line where the document starts in the file. */
  readonly line: number;
  readonly tenant?: string;
  readonly name?: string;
}

/** Each document's own text (so the server's positions map back) and its identity. */
function splitDocuments(text: string): SourceDocument[] {
  const lineCounter = new LineCounter();
  return parseAllDocuments(text, { lineCounter })
    .filter((doc) => doc.contents !== null)
    .map((doc) => {
      const [start = 0, , end = text.length] = doc.range;
      const value = doc.errors.length === 0 ? (doc.toJS() as { metadata?: { name?: unknown; namespace?: unknown } } | null) : null;
      const metadata = value?.metadata;
      return {
        text: text.slice(start, end),
        line: lineCounter.linePos(start).line,
        ...(typeof metadata?.namespace === 'string' ? { tenant: metadata.namespace } : {}),
        ...(typeof metadata?.name === 'string' ? { name: metadata.name } : {}),
      };
    });
}
