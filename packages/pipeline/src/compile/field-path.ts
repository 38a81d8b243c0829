import type { Fields } from './types.js';

/**
 * A compiled dotted field path (`log.level` → record.log.level). Paths are split once at
 * compile time; the closures below are what runs per record.
 */
export interface FieldAccess {
  readonly path: string;
  get(record: Fields): unknown;
  has(record: Fields): boolean;
  /** Creates intermediate objects; a non-object in the way is replaced by an object. */
  set(record: Fields, value: unknown): void;
  /**
   * Removes the field; returns its old value (undefined if absent). The key is set to
   * undefined rather than deleted: `delete` turns V8 objects into slow dictionaries, and
   * undefined is absent everywhere that matters (every step here, and JSON output).
   */
  remove(record: Fields): unknown;
}

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

// Keys that would reach Object.prototype through a record: refused by the compiler's callers.
export const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

export function fieldAccess(path: string): FieldAccess {
  const segments = path.split('.');
  // Most paths are one segment (`message`, `level`): no walk at all on the hot path.
  if (segments.length === 1) return topLevel(path);
  const last = segments[segments.length - 1] as string;
  const parents = segments.slice(0, -1);
  const parentOf = (record: Fields, create: boolean): Fields | undefined => {
    let current: Fields = record;
    for (const segment of parents) {
      const next = Object.hasOwn(current, segment) ? current[segment] : undefined;
      if (isObject(next)) current = next;
      else if (create) {
        const created: Fields = {};
        current[segment] = created;
        current = created;
      } else return undefined;
    }
    return current;
  };
  return {
    path,
    get: (record) => {
      const parent = parentOf(record, false);
      return parent && Object.hasOwn(parent, last) ? parent[last] : undefined;
    },
    has: (record) => {
      const parent = parentOf(record, false);
      return parent !== undefined && Object.hasOwn(parent, last) && parent[last] !== undefined;
    },
    set: (record, value) => {
      const parent = parentOf(record, true) as Fields;
      parent[last] = value;
    },
    remove: (record) => {
      const parent = parentOf(record, false);
      if (!parent || !Object.hasOwn(parent, last)) return undefined;
      const old = parent[last];
      parent[last] = undefined;
      return old;
    },
  };
}

/** Whether a path is safe to compile (no segment reaches an object's prototype). */
export function safeFieldPath(path: string): boolean {
  return path.split('.').every((segment) => !FORBIDDEN_SEGMENTS.has(segment));
}

export { isObject };

function topLevel(key: string): FieldAccess {
  return {
    path: key,
    get: (record) => (Object.hasOwn(record, key) ? record[key] : undefined),
    has: (record) => Object.hasOwn(record, key) && record[key] !== undefined,
    set: (record, value) => {
      record[key] = value;
    },
    remove: (record) => {
      if (!Object.hasOwn(record, key)) return undefined;
      const old = record[key];
      record[key] = undefined;
      return old;
    },
  };
}
