import type { LoggingPipeline } from '../spec/manifest.js';
import { formatPath } from '../manifest/errors.js';
import { compileCondition } from './condition.js';
import { fieldAccess } from './field-path.js';
import { compileFilterStep } from './filter.js';
import { compileIndex, type IndexNamer } from './output.js';
import { compileParseStep } from './parse/index.js';
import { compileTenantRegex } from './regex.js';
import { compileSelect, unreachableSelect, type StreamIdentity, type StreamMatcher } from './select.js';
import { compileTransformStep } from './transform/index.js';
import { compileTextRedaction } from './transform/redact.js';
import { ErrorCollector, type CompileEnv, type CompiledStep, type Compiled, type FailureClass, type Fields } from './types.js';

/** A record as the processor hands it over: the envelope's fields (DESIGN.md "Envelope"). */
export interface PipelineInput {
  readonly message: string;
  readonly time?: string;
  readonly stream?: string;
  readonly kubernetes?: Readonly<Record<string, unknown>>;
  readonly source?: Readonly<Record<string, unknown>>;
}

export type PipelineOutcome =
  | { readonly kind: 'document'; readonly index: string; readonly document: Fields; readonly dataStream: boolean }
  | { readonly kind: 'drop'; readonly step: string }
  | { readonly kind: 'deadLetter'; readonly class: FailureClass; readonly message: string; readonly step: string; readonly ruleIndex: number };

export interface PipelineProgram {
  readonly tenant: string;
  readonly name: string;
  /** The accepted version this program was compiled from (0 outside the control plane). */
  readonly version: number;
  readonly priority: number;
  /** Whether this pipeline's `select` takes records of that stream. */
  readonly selects: StreamMatcher;
  /** Runs one record; never throws for anything the record contains. */
  run(input: PipelineInput): PipelineOutcome;
}

export interface CompileOptions {
  /** Recorded as `tributary.pipeline.version`. */
  readonly version?: number;
}

interface Step {
  readonly run: CompiledStep;
  readonly path: string;
  readonly ruleIndex: number;
  readonly parse: boolean;
}

const ENV: CompileEnv = { regex: compileTenantRegex };

/**
 * The manifest's redaction for text outside its fields: a dead letter's sample in an alert
 * (see `compileTextRedaction`). A manifest without redact steps passes text through.
 */
export function textRedactor(manifest: LoggingPipeline): (text: string) => string {
  return compileTextRedaction(manifest.spec.transform as Parameters<typeof compileTextRedaction>[0], ENV);
}

/** Compiles a schema-valid manifest into a program, or returns every compile error with its path. */
export function compilePipeline(manifest: LoggingPipeline, options: CompileOptions = {}): Compiled<PipelineProgram> {
  const { spec, metadata } = manifest;
  const errors = new ErrorCollector();
  errors.errors.push(...unreachableSelect(spec.select));
  const steps: Step[] = [];
  const add = (
    section: 'parse' | 'filter' | 'transform',
    list: readonly unknown[] | undefined,
    compile: (step: never, at: ReadonlyArray<string | number>, env: CompileEnv) => Compiled<CompiledStep>,
  ): void => {
    list?.forEach((step, i) => {
      const at = ['spec', section, i];
      const body = errors.take(compile(step as never, at, ENV));
      const guard = guardOf(step, at, errors);
      if (body) steps.push({ run: guard ? guarded(guard, body) : body, path: formatPath(at), ruleIndex: steps.length, parse: section === 'parse' });
    });
  };
  add('parse', spec.parse, compileParseStep);
  add('filter', spec.filter, compileFilterStep);
  add('transform', spec.transform, compileTransformStep);
  const index = spec.output
    ? errors.take(compileIndex(metadata.namespace, spec.output.elasticsearch.index, ['spec', 'output', 'elasticsearch', 'index']))
    : errors.take(compileIndex(metadata.namespace, metadata.name, ['metadata', 'name']));
  if (errors.errors.length > 0 || !index) return { ok: false, errors: errors.errors };
  return {
    ok: true,
    value: program(manifest, steps, index, {
      version: options.version ?? 0,
      indexParseFailures: spec.deadLetter?.parseFailures === 'index',
      dataStream: spec.output?.elasticsearch.dataStream ?? false,
    }),
  };
}

function program(
  manifest: LoggingPipeline,
  steps: readonly Step[],
  index: IndexNamer,
  settings: { version: number; indexParseFailures: boolean; dataStream: boolean },
): PipelineProgram {
  const tenant = manifest.metadata.namespace;
  const name = manifest.metadata.name;
  const tributary = { tenant, pipeline: { name, version: settings.version } };
  const tributaryField = fieldAccess('tributary');
  return {
    tenant,
    name,
    version: settings.version,
    priority: manifest.spec.priority ?? 0,
    selects: compileSelect(manifest.spec.select),
    run(input) {
      const record: Fields = { message: input.message };
      if (input.time !== undefined) record['@timestamp'] = input.time;
      if (input.stream !== undefined) record['log'] = { stream: input.stream };
      if (input.kubernetes !== undefined) record['kubernetes'] = cloneData(input.kubernetes);
      for (const step of steps) {
        let outcome;
        try {
          outcome = step.run(record);
        } catch (err) {
          // Steps don't throw by contract; if one does, it is our bug, and still only this record's problem.
          outcome = { class: 'parse' as const, message: `internal error in ${step.path}: ${(err as Error).message}` };
        }
        if (outcome === undefined) continue;
        if (outcome === 'drop') return { kind: 'drop', step: step.path };
        if (step.parse && settings.indexParseFailures && outcome.class === 'parse') {
          record['error'] = { type: 'parse', message: outcome.message, step: step.path };
          continue;
        }
        return { kind: 'deadLetter', class: outcome.class, message: outcome.message, step: step.path, ruleIndex: step.ruleIndex };
      }
      // Set last, so a tenant's transforms can't forge which tenant or pipeline a document came from.
      tributaryField.set(record, { ...tributary });
      return { kind: 'document', index: index(record), document: record, dataStream: settings.dataStream };
    },
  };
}

/** Default output budget of one document, as JSON. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/**
 * A document as the JSON Elasticsearch gets, or a dead letter of class `budget` when it is
 * larger than `maxBytes`. Kept out of `run` because the writer serializes each document
 * once anyway, for its bulk request.
 */
export function serializeDocument(
  document: Fields,
  maxBytes = MAX_DOCUMENT_BYTES,
): { readonly ok: true; readonly body: string } | { readonly ok: false; readonly class: 'budget'; readonly message: string } {
  const body = JSON.stringify(document);
  // UTF-16 length ≤ UTF-8 bytes ≤ 3 × it: count bytes only when it could matter.
  const bytes = body.length * 3 <= maxBytes ? body.length : Buffer.byteLength(body);
  if (bytes > maxBytes) return { ok: false, class: 'budget', message: `document is ${bytes} bytes of JSON; the limit is ${maxBytes}` };
  return { ok: true, body };
}

function guardOf(step: unknown, at: ReadonlyArray<string | number>, errors: ErrorCollector): ((record: Fields) => boolean) | undefined {
  const [kind, body] = Object.entries(step as Record<string, unknown>)[0] ?? [];
  const condition = (body as { if?: unknown } | undefined)?.if;
  if (kind === undefined || condition === undefined) return undefined;
  return errors.take(compileCondition(condition as never, [...at, kind, 'if'], ENV));
}

function guarded(condition: (record: Fields) => boolean, step: CompiledStep): CompiledStep {
  return (record) => (condition(record) ? step(record) : undefined);
}

/** The pipeline a record of `stream` goes to: highest priority first, then name, so apply order never matters. */
export function choosePipeline(programs: readonly PipelineProgram[], stream: StreamIdentity): PipelineProgram | undefined {
  let best: PipelineProgram | undefined;
  for (const candidate of programs) {
    if (!candidate.selects(stream)) continue;
    if (!best || candidate.priority > best.priority || (candidate.priority === best.priority && candidate.name < best.name)) best = candidate;
  }
  return best;
}

/**
 * A copy of JSON-like data (what an envelope holds), so steps can't change the caller's
 * input. Much cheaper than structuredClone for the small objects envelopes carry.
 */
function cloneData<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneData) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const child = cloneData((value as Record<string, unknown>)[key]);
    // An own "__proto__" key (JSON.parse makes those) must stay data, not become the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: child, writable: true, enumerable: true, configurable: true });
    else copy[key] = child;
  }
  return copy as T;
}
