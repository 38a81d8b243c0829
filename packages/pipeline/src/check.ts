import { compilePipeline, type CompileOptions, type PipelineProgram } from './compile/pipeline.js';
import { formatPath, type ManifestError } from './manifest/errors.js';
import { loadManifests, type LoadedManifest, type LoadOptions } from './manifest/load.js';

export interface CheckedPipeline {
  readonly loaded: LoadedManifest;
  readonly program: PipelineProgram;
}

export interface CheckResult {
  readonly pipelines: CheckedPipeline[];
  /** Schema and compile errors of every document, positioned in the source. */
  readonly errors: ManifestError[];
}

/** Loads, validates and compiles the manifests in `text`: what `tributary validate` checks. */
export function checkManifests(text: string, options: LoadOptions & CompileOptions = {}): CheckResult {
  const file = options.file ?? '<input>';
  const { manifests, errors } = loadManifests(text, options);
  const pipelines: CheckedPipeline[] = [];
  for (const loaded of manifests) {
    const result = compilePipeline(loaded.manifest, options);
    if (result.ok) {
      pipelines.push({ loaded, program: result.value });
      continue;
    }
    for (const error of result.errors) {
      errors.push({ file, ...(loaded.locate(error.segments) ?? {}), path: formatPath(error.segments), reason: error.reason });
    }
  }
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { pipelines, errors };
}
