import { tenantNames } from '@tributary/tenant';
import { fieldAccess, safeFieldPath } from './field-path.js';
import { compiled, ErrorCollector, type Compiled, type Fields } from './types.js';

/** Renders the index a document goes to; always inside the tenant's prefix. */
export type IndexNamer = (document: Fields) => string;

/** Date parts as text: [year, month, day, hour]. */
type DateParts = readonly [string, string, string, string];

const DATE_DIRECTIVES: Record<string, (d: DateParts) => string> = {
  Y: (d) => d[0],
  m: (d) => d[1],
  d: (d) => d[2],
  H: (d) => d[3],
};
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * The UTC date parts of `@timestamp`. The timestamp step always writes
 * `YYYY-MM-DDTHH:…Z`, so slicing it is enough; anything else goes through Date, and a
 * missing or unreadable time means now.
 */
function dateParts(value: unknown): DateParts {
  if (typeof value === 'string' && value.length >= 20 && value.charCodeAt(value.length - 1) === 90 /* Z */ && value[4] === '-' && value[7] === '-' && value[10] === 'T') {
    return [value.slice(0, 4), value.slice(5, 7), value.slice(8, 10), value.slice(11, 13)];
  }
  let date = typeof value === 'string' || typeof value === 'number' ? new Date(value) : new Date();
  if (Number.isNaN(date.getTime())) date = new Date();
  return [String(date.getUTCFullYear()).padStart(4, '0'), pad(date.getUTCMonth() + 1), pad(date.getUTCDate()), pad(date.getUTCHours())];
}
const LITERAL = /^[a-z0-9._-]*$/;

/**
 * Compiles `output.elasticsearch.index`: literal text, `{%Y.%m.%d}` (the UTC date of
 * `@timestamp`, or of now when it is missing or unreadable) and `{{ field }}` (its value,
 * lowercased, characters Elasticsearch refuses turned into `-`). A name written with the
 * tenant's full prefix is accepted; one under another tenant's prefix is refused.
 */
export function compileIndex(tenant: string, template: string, at: ReadonlyArray<string | number>): Compiled<IndexNamer> {
  const { indexPrefix } = tenantNames(tenant);
  const errors = new ErrorCollector();
  let body = template;
  if (template.startsWith(indexPrefix)) body = template.slice(indexPrefix.length);
  else if (/^logs\.[a-z0-9-]+\./.test(template)) {
    errors.add(at, `"${template}" is outside this tenant's indices (${indexPrefix}*): name the index without a prefix`);
  }
  if (body.startsWith('.') || body.startsWith('_') || body.startsWith('-')) {
    errors.add(at, 'must not start with ".", "_" or "-"');
  }
  const parts: Array<string | ((doc: Fields) => string)> = [];
  const tokenizer = /\{\{\s*([^}\s]+)\s*\}\}|\{(%[^}]*)\}/g;
  let last = 0;
  for (const match of body.matchAll(tokenizer)) {
    parts.push(body.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[1] !== undefined) {
      const path = match[1];
      if (!safeFieldPath(path) || !/^[A-Za-z0-9_@$-]+(\.[A-Za-z0-9_@$-]+)*$/.test(path)) {
        errors.add(at, `"{{ ${path} }}" is not a field path`);
        continue;
      }
      const field = fieldAccess(path);
      parts.push((doc) => sanitize(field.get(doc)));
    } else {
      const format = match[2] as string;
      const pieces = format.split(/(%.)/).filter(Boolean);
      const renderers: Array<(d: DateParts) => string> = [];
      for (const piece of pieces) {
        if (piece.startsWith('%')) {
          const directive = DATE_DIRECTIVES[piece.slice(1)];
          if (!directive) errors.add(at, `unknown date directive ${piece} in "{${format}}"; use %Y, %m, %d, %H`);
          else renderers.push(directive);
        } else if (LITERAL.test(piece)) renderers.push(() => piece);
        else errors.add(at, `"${piece}" can't be part of an index name`);
      }
      const timestamp = fieldAccess('@timestamp');
      parts.push((doc) => {
        const date = dateParts(timestamp.get(doc));
        let text = '';
        for (const render of renderers) text += render(date);
        return text;
      });
    }
  }
  parts.push(body.slice(last));
  for (const literal of parts.filter((p): p is string => typeof p === 'string')) {
    if (!LITERAL.test(literal)) errors.add(at, `"${literal}" can't be part of an index name: use lowercase letters, digits, ".", "_" and "-"`);
  }
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  if (parts.every((p) => typeof p === 'string')) {
    const name = `${indexPrefix}${parts.join('')}`;
    return compiled(() => name);
  }
  return compiled((doc) => {
    let name = indexPrefix;
    for (const part of parts) name += typeof part === 'string' ? part : part(doc);
    return name.length > 255 ? name.slice(0, 255) : name;
  });
}

function sanitize(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  return text.slice(0, 100) || 'none';
}
