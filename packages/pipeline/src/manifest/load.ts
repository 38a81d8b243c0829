import { isMap, isNode, isPair, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { LoggingPipeline } from '../spec/manifest.js';
import { formatPath, type ManifestError } from './errors.js';
import { ManifestValidator } from './validate.js';

/** Larger manifests are refused before parsing: a pipeline needs kilobytes, not megabytes. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

export interface LoadedManifest {
  /** Schema-valid and deeply frozen. */
  readonly manifest: LoggingPipeline;
  /** 0-based index of the document in the file. */
  readonly document: number;
  /** The position of a path in the source, for errors found later (compile, tests). */
  locate(segments: ReadonlyArray<string | number>): { line: number; col: number } | undefined;
}

export interface LoadResult {
  readonly manifests: LoadedManifest[];
  /** Every problem in every document, positioned; a document with errors yields no manifest. */
  readonly errors: ManifestError[];
}

export interface LoadOptions {
  /** Shown in errors; default `<input>`. */
  readonly file?: string;
  /** Reuse one validator across calls (compiling the schema takes milliseconds). */
  readonly validator?: ManifestValidator;
}

/** Reads LoggingPipeline manifests from YAML or JSON text, several documents per file. */
export function loadManifests(text: string, options: LoadOptions = {}): LoadResult {
  const file = options.file ?? '<input>';
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MANIFEST_BYTES) {
    return { manifests: [], errors: [{ file, line: 1, col: 1, path: '', reason: `manifest is ${bytes} bytes; the limit is ${MAX_MANIFEST_BYTES}` }] };
  }
  const validator = options.validator ?? new ManifestValidator();
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const manifests: LoadedManifest[] = [];
  const errors: ManifestError[] = [];
  const at = (offset: number | undefined): { line: number; col: number } => lineCounter.linePos(offset ?? 0);

  // A stream that is not a document list at all (e.g. a bare `]`) comes back as one EmptyStream.
  const list = Array.isArray(documents) ? documents : [];
  if (!Array.isArray(documents)) errors.push({ file, line: 1, col: 1, path: '', reason: 'not a YAML or JSON document' });
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) errors.push({ file, ...at(e.pos[0]), path: '', reason: `invalid YAML: ${firstLine(e.message)}` });
      return;
    }
    if (doc.contents === null) return; // an empty document, e.g. after a trailing `---`
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push({ file, ...at(doc.contents.range?.[0]), path: '', reason: (err as Error).message });
      return;
    }
    if (value === null || value === undefined) return; // only comments, or a bare `---`
    const locate = (segments: ReadonlyArray<string | number>): { line: number; col: number } | undefined => {
      const offset = offsetOf(doc, segments);
      return offset === undefined ? undefined : at(offset);
    };
    const schemaErrors = validator.check(value);
    for (const e of schemaErrors) {
      errors.push({ file, ...(locate(e.segments) ?? at(0)), path: formatPath(e.segments), reason: e.reason });
    }
    if (schemaErrors.length === 0) manifests.push({ manifest: deepFreeze(value as LoggingPipeline), document: index, locate });
  });
  // Schema errors come in schema order; a reader wants them in file order.
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { manifests, errors };
}

/** The source offset of the deepest node on `segments` that exists (a missing field points at its parent). */
function offsetOf(doc: Document, segments: ReadonlyArray<string | number>): number | undefined {
  for (let depth = segments.length; depth >= 0; depth--) {
    const path = segments.slice(0, depth);
    const parent = depth > 0 ? doc.getIn(path.slice(0, -1), true) : undefined;
    // An unknown or misspelt key: point at the key itself, not its value.
    if (depth > 0 && isMap(parent)) {
      const key = path[depth - 1];
      const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
      if (pair && isNode(pair.key) && depth === segments.length) return pair.key.range?.[0];
    }
    const node = depth === 0 ? doc.contents : doc.getIn(path, true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
