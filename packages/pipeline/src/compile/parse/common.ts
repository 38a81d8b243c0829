import { fieldAccess, FORBIDDEN_SEGMENTS, isObject, type FieldAccess } from '../field-path.js';
import type { ErrorCollector, Failure, Fields } from '../types.js';

/** The manifest path of a step or of one of its fields. */
export type At = ReadonlyArray<string | number>;

/**
 * Compiles a field path from a step spec, or records why it can't be used. The schema
 * already restricts the characters; what is left to refuse are segments that reach a
 * prototype (`__proto__`, `constructor`, `prototype`).
 */
export function checkedField(path: string, at: At, errors: ErrorCollector): FieldAccess | undefined {
  const bad = path.split('.').find((segment) => FORBIDDEN_SEGMENTS.has(segment));
  if (bad !== undefined) {
    errors.add(at, `segment "${bad}" is not allowed: it would reach the prototype of every object`);
    return undefined;
  }
  return fieldAccess(path);
}

export const parseFailure = (message: string): Failure => ({ class: 'parse', message });

/** How a value reads in a failure message: "a number", "an array", "null". */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' || type === 'undefined' ? `an ${type}` : `a ${type}`;
}

/** The failure for a source field that is absent or not a string. */
export function notAString(name: string, value: unknown, alsoNumber = false): Failure {
  if (value === undefined) return parseFailure(`${name} is missing`);
  return parseFailure(`${name} is ${kindOf(value)}, not a string${alsoNumber ? ' or a number' : ''}`);
}

/** A record value quoted for a failure message, shortened so a huge line can't bloat the dead letter's reason. */
export function quoted(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/**
 * Writes an own property. Plain assignment of `__proto__` would call the inherited setter
 * and swap the object's prototype for attacker-supplied data; defining it keeps it data.
 */
export function setOwn(target: Fields, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/**
 * Copies parsed key/values to the record root, or into the object at `target` (created,
 * or replacing a non-object, when needed) so that several steps can fill one namespace.
 */
export function mergeParsed(record: Fields, target: FieldAccess | undefined, values: Fields): void {
  let into: Fields = record;
  if (target) {
    const existing = target.get(record);
    if (!isObject(existing)) {
      target.set(record, values);
      return;
    }
    into = existing;
  }
  for (const key in values) setOwn(into, key, values[key]);
}
