import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Condition } from '../spec/condition.js';
import { LoggingPipeline } from '../spec/manifest.js';
import type { ManifestError } from './errors.js';

/** A schema error with the path as segments, so a loader can find its position in the source. */
export interface SchemaError {
  readonly segments: ReadonlyArray<string | number>;
  readonly reason: string;
}

/**
 * Checks a value against the LoggingPipeline schema and returns every error, each with
 * the path of the bad field. Errors from union branches are folded into one message per
 * field ("must be one of …") instead of one per branch.
 */
export class ManifestValidator {
  private readonly validate: ValidateFunction;

  constructor() {
    // verbose: errors carry their schema, which the explanations below read.
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, schemas: [Condition] });
    this.validate = ajv.compile(LoggingPipeline);
  }

  check(value: unknown): SchemaError[] {
    if (this.validate(value)) return [];
    return explain(this.validate.errors ?? []);
  }
}

function explain(errors: readonly ErrorObject[]): SchemaError[] {
  // Union failures: keep one message at the union, drop what each branch said.
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const insideUnion = (e: ErrorObject): boolean =>
    unions.some((u) => e !== u && e.schemaPath.startsWith(`${u.schemaPath.slice(0, -'/anyOf'.length)}/anyOf/`));
  const out = new Map<string, SchemaError>();
  for (const error of errors) {
    if (insideUnion(error)) continue;
    const explained = explainOne(error);
    const key = `${explained.segments.join('\u0000')}\u0001${explained.reason}`;
    if (!out.has(key)) out.set(key, explained);
  }
  return [...out.values()];
}

function explainOne(error: ErrorObject): SchemaError {
  const segments = pointerSegments(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(params['additionalProperty']);
      const known = Object.keys((error.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {});
      const guess = closest(field, known);
      return {
        segments: [...segments, field],
        reason: `unknown field "${field}"${guess ? `; did you mean "${guess}"?` : known.length ? `; expected one of ${known.join(', ')}` : ''}`,
      };
    }
    case 'required':
      return { segments: [...segments, String(params['missingProperty'])], reason: 'is required' };
    case 'minProperties':
    case 'maxProperties': {
      const known = Object.keys((error.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {});
      const exactlyOne = error.parentSchema?.['maxProperties'] === 1;
      return {
        segments,
        reason: exactlyOne ? `must name exactly one of ${known.join(', ')}` : `must not be empty`,
      };
    }
    case 'anyOf':
      return { segments, reason: unionReason(error.schema as unknown[]) };
    case 'const':
      return { segments, reason: `must be ${JSON.stringify(params['allowedValue'])}` };
    case 'pattern':
      return { segments, reason: `${describePattern(error)} (does not match ${String(params['pattern'])})` };
    case 'minItems':
      return { segments, reason: `must have at least ${String(params['limit'])} item${params['limit'] === 1 ? '' : 's'}` };
    case 'maxItems':
      return { segments, reason: `must have at most ${String(params['limit'])} items` };
    case 'maxLength':
      return { segments, reason: `must be at most ${String(params['limit'])} characters` };
    case 'type':
      return { segments, reason: `must be ${String(params['type'])}` };
    default:
      return { segments, reason: error.message ?? error.keyword };
  }
}

function unionReason(branches: unknown[]): string {
  const consts = branches.map((b) => (b as { const?: unknown }).const);
  if (consts.every((c) => c !== undefined)) return `must be one of ${consts.map((c) => JSON.stringify(c)).join(', ')}`;
  const shapes = branches.map((b) => {
    const schema = b as { type?: string; required?: string[]; properties?: Record<string, unknown>; const?: unknown };
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.type === 'object' && schema.properties) return `{ ${Object.keys(schema.properties).join(' | ')} }`;
    return schema.type ?? 'a value';
  });
  return `must be one of: ${shapes.join(', ')}`;
}

function describePattern(error: ErrorObject): string {
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  return description ? `must be ${description}` : 'has an invalid format';
}

function pointerSegments(pointer: string): Array<string | number> {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The known name within edit distance 2 of a typo, if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 3;
}

export type { ManifestError };
