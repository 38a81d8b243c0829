import type { Static } from '@sinclair/typebox';
import type { RedactTransform } from '../../spec/steps.js';
import { compiled, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep, type TenantRegex } from '../types.js';
import { maskCards } from './card.js';
import { compileFieldList } from './case.js';

type Path = ReadonlyArray<string | number>;
type RedactSpec = Static<typeof RedactTransform>;
type Detector = (text: string) => string;
type Mask = (match: string) => string;

const DEFAULT_IN = ['message'];
const EMAIL = '[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\\.)+[A-Za-z]{2,}';
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = `\\b(?:${OCTET}\\.){3}${OCTET}\\b`;
// A loose V8 pre-check for IPV4; bounded repeats keep it linear.
const DOTTED_QUAD = /[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]/;

export function compileRedact(spec: RedactSpec, at: Path, env: CompileEnv): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  if (spec.fields === undefined && spec.patterns === undefined) errors.add(at, 'give "fields", "patterns" or both');
  if (spec.in !== undefined && spec.patterns === undefined) errors.add([...at, 'in'], 'has no meaning without "patterns"');
  const replacement = spec.replacement ?? '[REDACTED]';
  const keepLast = spec.keepLast;
  if (keepLast !== undefined && !(Number.isInteger(keepLast) && keepLast >= 0)) errors.add([...at, 'keepLast'], 'must be a whole number ≥ 0');
  const mask = masker(replacement, keepLast);
  const fields = spec.fields === undefined ? [] : compileFieldList(spec.fields, [...at, 'fields'], errors);
  const detectors = spec.patterns === undefined ? [] : compileDetectors(spec.patterns, [...at, 'patterns'], mask, env, errors);
  const targets = spec.patterns === undefined ? [] : compileFieldList(spec.in ?? DEFAULT_IN, [...at, 'in'], errors);
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };

  return compiled((record) => {
    for (const field of fields) {
      const value = field.get(record);
      if (value !== undefined) field.set(record, typeof value === 'string' ? mask(value) : replacement);
    }
    for (const field of targets) {
      const value = field.get(record);
      if (typeof value !== 'string' || value.length === 0) continue;
      let text = value;
      for (const detect of detectors) text = detect(text);
      if (text !== value) field.set(record, text);
    }
    return undefined;
  });
}

function compileDetectors(patterns: RedactSpec['patterns'] & object, at: Path, mask: Mask, env: CompileEnv, errors: ErrorCollector): Detector[] {
  const detectors: Detector[] = [];
  patterns.forEach((pattern, i) => {
    if (pattern === 'card') return detectors.push((text) => maskCards(text, mask));
    const source = pattern === 'email' ? EMAIL : pattern === 'ipv4' ? IPV4 : typeof pattern === 'object' && pattern !== null ? pattern.regex : undefined;
    if (typeof source !== 'string') return errors.add([...at, i], 'must be card, email, ipv4 or { regex: … }');
    const re = errors.take(env.regex(source, typeof pattern === 'object' ? [...at, i, 'regex'] : [...at, i]));
    if (!re) return;
    // Cheap checks in JS spare the RE2 call (a UTF-8 copy of the text) on most messages.
    if (pattern === 'email') detectors.push((text) => (text.includes('@') ? replaceAll(re, text, mask) : text));
    else if (pattern === 'ipv4') detectors.push((text) => (DOTTED_QUAD.test(text) ? replaceAll(re, text, mask) : text));
    else detectors.push((text) => replaceAll(re, text, mask));
  });
  return detectors;
}

// RE2's test is about half the cost of its replace (which builds a new string), and most texts don't match.
// An empty match (from a tenant pattern like `x*`) masks nothing, rather than inserting the mask between every character.
const replaceAll = (re: TenantRegex, text: string, mask: Mask): string =>
  re.test(text) ? re.replaceAll(text, (match) => (match === '' ? match : mask(match))) : text;

/** The mask for one match or field value: `replacement`, or `*` for each character but the last `keepLast`. */
export function masker(replacement: string, keepLast: number | undefined): Mask {
  if (keepLast === undefined) return () => replacement;
  return (text) => {
    // Walk back keepLast code points, so a kept emoji is never cut in half.
    let split = text.length;
    for (let kept = 0; kept < keepLast && split > 0; kept++) {
      split--;
      const code = text.charCodeAt(split);
      if (code >= 0xdc00 && code < 0xe000 && split > 0 && (text.charCodeAt(split - 1) & 0xfc00) === 0xd800) split--;
    }
    const hidden = countPoints(text, split);
    // A value no longer than what would be kept would show whole; hide it all instead.
    if (hidden === 0) return '*'.repeat(countPoints(text, text.length));
    return '*'.repeat(hidden) + text.slice(split);
  };
}

function countPoints(text: string, end: number): number {
  let count = 0;
  for (let i = 0; i < end; i++) {
    count++;
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && i + 1 < end && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return count;
}

/**
 * A pipeline's redaction for text that never became fields: a dead letter's sample in an
 * alert, the very lines a pipeline failed to parse. Every redact step's `patterns` run over
 * the whole text, and every field a step names (its last segment: `user.password` →
 * `password`) is masked where the text writes it as a JSON member (`"password": "…"`, also
 * inside a JSON string, `\"password\":\"…\"`) or a key=value pair (`password=…`), since a
 * broken line is often still mostly JSON or logfmt. Steps that don't compile are skipped
 * (an accepted manifest's all do).
 */
export function compileTextRedaction(steps: ReadonlyArray<{ readonly redact?: RedactSpec | undefined }> | undefined, env: CompileEnv): (text: string) => string {
  const passes: Detector[] = [];
  (steps ?? []).forEach((step, i) => {
    const spec = step.redact;
    if (!spec) return;
    const errors = new ErrorCollector();
    const mask = masker(spec.replacement ?? '[REDACTED]', spec.keepLast);
    if (spec.patterns) passes.push(...compileDetectors(spec.patterns, ['spec', 'transform', i, 'redact', 'patterns'], mask, env, errors));
    for (const field of Array.isArray(spec.fields) ? spec.fields : []) {
      const key = typeof field === 'string' ? field.split('.').pop() : undefined;
      if (!key) continue;
      const name = key.replace(/[^A-Za-z0-9_-]/g, (c) => `\\x{${c.codePointAt(0)!.toString(16)}}`);
      // JSON member (its quotes escaped or not), or key=value up to the next space.
      const re = errors.take(env.regex(`(\\\\?"${name}\\\\?"\\s*:\\s*\\\\?")((?:[^"\\\\]|\\\\[^"])*)(\\\\?")|(\\b${name}=)("[^"]*"|[^\\s,;&]+)`, ['spec', 'transform', i, 'redact', 'fields']));
      if (re) passes.push((text) => (text.includes(key) ? replaceMembers(re, text, mask) : text));
    }
  });
  return (text) => passes.reduce((out, pass) => pass(out), text);
}

/** Masks the value part of each member or pair the field regex matched, keeping the key and quotes. */
function replaceMembers(re: TenantRegex, text: string, mask: Mask): string {
  return re.replaceAll(text, (match) => {
    const json = /^(\\?"[^"\\]+\\?"\s*:\s*\\?")([\s\S]*?)(\\?")$/.exec(match);
    if (json) return `${json[1]}${json[2] === '' ? '' : mask(json[2] as string)}${json[3]}`;
    const pair = /^([^=]+=)([\s\S]*)$/.exec(match);
    return pair ? `${pair[1]}${mask(pair[2] as string)}` : mask(match);
  });
}
