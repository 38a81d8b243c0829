/** A problem in a manifest: where (path in the document, and position in the file) and why. */
export interface ManifestError {
  /** `spec.parse[1].regex.pattern`; empty for the document as a whole. */
  readonly path: string;
  readonly reason: string;
  readonly file?: string;
  /** 1-based, when the manifest came from text. */
  readonly line?: number;
  readonly col?: number;
}

/** `file:line:col  path: reason`, the form editors and terminals link. */
export function formatManifestError(error: ManifestError): string {
  const where = error.file === undefined ? '' : `${error.file}${error.line === undefined ? '' : `:${error.line}:${error.col ?? 1}`}  `;
  return `${where}${error.path === '' ? '(document)' : error.path}: ${error.reason}`;
}

/** `["spec", "parse", 1, "regex"]` → `spec.parse[1].regex`. */
export function formatPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$@][\w$@-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
