import type { Static } from '@sinclair/typebox';
import type { JsonParse } from '../../spec/steps.js';
import { fieldAccess } from '../field-path.js';
import { compiled, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep, type Failure, type Fields } from '../types.js';
import { checkedField, kindOf, notAString, parseFailure, setOwn, type At } from './common.js';

export type JsonParseSpec = Static<typeof JsonParse>;

/** Docker and containerd split lines longer than this; the first part then arrives as truncated JSON. */
const RUNTIME_SPLIT_BYTES = 16 * 1024;
const MAX_REASON = 240;

/**
 * `json`: parses a field holding a JSON document. An object is merged into the record root
 * (or set whole at `target`); anything else is wrapped at `target ?? json`, or fails.
 * `at` is the step's path; errors point at `[...at, 'json', <field>]`.
 */
export function compileJson(spec: JsonParseSpec, at: At, _env: CompileEnv): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const fieldPath = spec.field ?? 'message';
  const source = checkedField(fieldPath, [...at, 'json', 'field'], errors);
  const target = spec.target === undefined ? undefined : checkedField(spec.target, [...at, 'json', 'target'], errors);
  if (!source || errors.errors.length > 0) return { ok: false, errors: errors.errors };

  const wrapAt = target ?? fieldAccess('json');
  const failNonObject = spec.nonObject === 'fail';
  const name = `field "${fieldPath}"`;

  return compiled((record) => {
    const text = source.get(record);
    if (typeof text !== 'string') return notAString(name, text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return invalidJson(name, text, err);
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      if (target) target.set(record, parsed);
      // JSON.parse makes `__proto__` an own data key; setOwn keeps it one on the record.
      else for (const key in parsed) setOwn(record, key, (parsed as Fields)[key]);
      return undefined;
    }
    if (failNonObject) return parseFailure(`${name} is JSON but not an object: it holds ${kindOf(parsed)}`);
    wrapAt.set(record, parsed);
    return undefined;
  });
}

// Only runs for bad lines, so the byte count costs nothing on the hot path.
function invalidJson(name: string, text: string, err: unknown): Failure {
  let reason = err instanceof Error ? err.message : String(err);
  if (reason.length > MAX_REASON) reason = `${reason.slice(0, MAX_REASON)}…`;
  if (text.length === 0) reason = 'the field is empty';
  else if (Buffer.byteLength(text, 'utf8') === RUNTIME_SPLIT_BYTES) {
    reason += ' (the line is exactly 16 KiB: the container runtime probably split a longer line)';
  }
  return parseFailure(`${name} is not valid JSON: ${reason}`);
}
