import { COMBINATORS, COMPARISONS, type Condition } from '../spec/condition.js';
import { LogLevel } from '../spec/fields.js';
import { fieldAccess, isObject, safeFieldPath, type FieldAccess } from './field-path.js';
import { compiled, ErrorCollector, type CompileEnv, type CompileError, type Compiled, type Fields } from './types.js';

export type Predicate = (record: Fields) => boolean;
type Path = ReadonlyArray<string | number>;
type Test = (value: unknown) => boolean;

export const MAX_CONDITION_DEPTH = 32;
/** YAML aliases can make a small manifest expand into a huge tree; this bounds compile work. */
export const MAX_CONDITION_PARTS = 10_000;

const OPERATORS: readonly string[] = [...COMPARISONS, ...COMBINATORS];
const LEVELS: readonly string[] = LogLevel.anyOf.map((literal) => String(literal.const));
// Strings that can be read as a number; unambiguous so V8 stays linear on long inputs.
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const never: Predicate = () => false;

/** `a`, `a and b`, `a, b and c`. */
export function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? 'none') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The reason for "exactly one of" errors shared by conditions, filters and transforms. */
export function exactlyOne(options: readonly string[], given: readonly string[]): string {
  return `use exactly one of ${options.join(', ')}; got ${listed(given)}`;
}

/** Checks a field path from the manifest and compiles it once; undefined after recording why not. */
export function compileField(path: unknown, at: Path, errors: ErrorCollector): FieldAccess | undefined {
  if (typeof path !== 'string' || path === '' || path.split('.').includes('')) {
    errors.add(at, 'a field path must be non-empty dotted segments, e.g. log.level');
    return undefined;
  }
  if (!safeFieldPath(path)) {
    errors.add(at, `"${path}" is not allowed: __proto__, prototype and constructor would reach the object prototype`);
    return undefined;
  }
  return fieldAccess(path);
}

/** A value read as a number: numbers and numeric strings; NaN otherwise (every comparison with NaN is false). */
export function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && NUMERIC.test(value) ? Number(value) : NaN;
}

export function compileCondition(condition: Condition, at: Path, env: CompileEnv): Compiled<Predicate> {
  const tooDeep = checkNesting(condition, at);
  if (tooDeep) return { ok: false, errors: [tooDeep] };
  const errors = new ErrorCollector();
  // Recursion below is bounded by MAX_CONDITION_DEPTH, checked above without recursing.
  const predicate = build(condition, at, env, errors);
  return errors.errors.length > 0 ? { ok: false, errors: errors.errors } : compiled(predicate);
}

function checkNesting(root: unknown, at: Path): CompileError | undefined {
  const stack: Array<{ node: unknown; path: Path; depth: number }> = [{ node: root, path: at, depth: 1 }];
  let parts = 0;
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const { node, path, depth } = entry;
    if (depth > MAX_CONDITION_DEPTH) return { segments: path, reason: `conditions nest deeper than ${MAX_CONDITION_DEPTH} levels` };
    if (++parts > MAX_CONDITION_PARTS) return { segments: at, reason: `a condition may have at most ${MAX_CONDITION_PARTS} parts` };
    if (!isObject(node)) continue;
    if (node.not !== undefined) stack.push({ node: node.not, path: [...path, 'not'], depth: depth + 1 });
    for (const key of ['and', 'or'] as const) {
      const list = node[key];
      if (Array.isArray(list)) list.forEach((child, i) => stack.push({ node: child, path: [...path, key, i], depth: depth + 1 }));
    }
  }
  return undefined;
}

function build(node: unknown, at: Path, env: CompileEnv, errors: ErrorCollector): Predicate {
  if (!isObject(node)) {
    errors.add(at, 'a condition must be an object');
    return never;
  }
  const given = OPERATORS.filter((op) => node[op] !== undefined);
  const op = given[0];
  if (given.length !== 1 || op === undefined) {
    errors.add(at, exactlyOne(OPERATORS, given));
    return never;
  }
  if (op === 'and' || op === 'or' || op === 'not') {
    if (node.field !== undefined) errors.add(at, `"field" has no meaning with ${op}`);
    return op === 'not' ? negate(build(node.not, [...at, 'not'], env, errors)) : combine(op, node[op], [...at, op], env, errors);
  }
  if (node.field === undefined) {
    errors.add(at, `"field" is required with ${op}`);
    return never;
  }
  const access = compileField(node.field, [...at, 'field'], errors);
  const test = comparison(op, node[op], [...at, op], env, errors);
  if (!access || !test) return never;
  const get = access.get;
  return (record) => test(get(record));
}

const negate = (inner: Predicate): Predicate => (record) => !inner(record);

function combine(op: 'and' | 'or', list: unknown, at: Path, env: CompileEnv, errors: ErrorCollector): Predicate {
  if (!Array.isArray(list) || list.length === 0) {
    errors.add(at, `${op} needs a non-empty list of conditions`);
    return never;
  }
  const parts = list.map((child, i) => build(child, [...at, i], env, errors));
  const [a, b] = parts;
  if (parts.length === 1 && a) return a;
  if (parts.length === 2 && a && b) return op === 'and' ? (r) => a(r) && b(r) : (r) => a(r) || b(r);
  const wanted = op === 'or';
  // A plain loop: no closure allocated per record, and it stops at the first decisive part.
  return (record) => {
    for (const part of parts) if (part(record) === wanted) return wanted;
    return !wanted;
  };
}

function comparison(op: string, operand: unknown, at: Path, env: CompileEnv, errors: ErrorCollector): Test | undefined {
  switch (op) {
    case 'equals':
      return isScalar(operand) ? equalTo(operand) : (errors.add(at, 'must be a string, number, boolean or null'), undefined);
    case 'in':
      return oneOf(operand, at, errors);
    case 'exists':
      if (typeof operand !== 'boolean') return errors.add(at, 'must be true or false'), undefined;
      return operand ? (v) => v !== undefined && v !== null : (v) => v === undefined || v === null;
    case 'matches': {
      if (typeof operand !== 'string') return errors.add(at, 'must be a regular expression'), undefined;
      const re = errors.take(env.regex(operand, at));
      if (!re) return undefined;
      return (v) => (typeof v === 'string' ? re.test(v) : typeof v === 'number' || typeof v === 'boolean' ? re.test(String(v)) : false);
    }
    case 'atLeast': {
      const from = typeof operand === 'string' ? LEVELS.indexOf(operand) : -1;
      if (from < 0) return errors.add(at, `must be one of ${LEVELS.join(', ')}`), undefined;
      const accepted = new Set(LEVELS.slice(from));
      const longest = Math.max(...LEVELS.map((l) => l.length));
      // The length check spares lowercasing a huge value that can't be a level.
      return (v) => typeof v === 'string' && v.length <= longest && accepted.has(v.toLowerCase());
    }
    default: {
      if (typeof operand !== 'number' || Number.isNaN(operand)) return errors.add(at, 'must be a number'), undefined;
      const bound = operand;
      if (op === 'gt') return (v) => numberOf(v) > bound;
      if (op === 'gte') return (v) => numberOf(v) >= bound;
      if (op === 'lt') return (v) => numberOf(v) < bound;
      return (v) => numberOf(v) <= bound;
    }
  }
}

type Scalar = string | number | boolean | null;
const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Strict equality, except numbers meet numeric strings and booleans meet "true"/"false" (log fields are often stringly). */
function equalTo(expected: Scalar): Test {
  if (typeof expected === 'number') return (v) => v === expected || (typeof v === 'string' && numberOf(v) === expected);
  if (typeof expected === 'boolean') {
    const text = String(expected);
    return (v) => v === expected || v === text;
  }
  if (typeof expected === 'string') {
    const number = numberOf(expected);
    if (!Number.isNaN(number)) return (v) => v === expected || v === number;
    if (expected === 'true' || expected === 'false') {
      const bool = expected === 'true';
      return (v) => v === expected || v === bool;
    }
  }
  return (v) => v === expected;
}

function oneOf(operand: unknown, at: Path, errors: ErrorCollector): Test | undefined {
  if (!Array.isArray(operand) || operand.length === 0) return errors.add(at, 'must be a non-empty list of values'), undefined;
  const exact = new Set<unknown>();
  // As with equals: a string in the record meets spec numbers, a number in the record meets spec numeric strings.
  const specNumbers = new Set<number>();
  const specNumericStrings = new Set<number>();
  operand.forEach((value, i) => {
    if (!isScalar(value)) return errors.add([...at, i], 'must be a string, number, boolean or null');
    exact.add(value);
    if (typeof value === 'number' && !Number.isNaN(value)) specNumbers.add(value);
    else if (typeof value === 'string' && !Number.isNaN(numberOf(value))) specNumericStrings.add(numberOf(value));
    if (value === true || value === false) exact.add(String(value));
    if (value === 'true' || value === 'false') exact.add(value === 'true');
  });
  if (specNumbers.size === 0 && specNumericStrings.size === 0) return (v) => exact.has(v);
  return (v) =>
    exact.has(v) || (typeof v === 'string' ? specNumbers.has(numberOf(v)) : typeof v === 'number' && specNumericStrings.has(v));
}
