import type { TransformStep } from '../../spec/steps.js';
import { compileField, numberOf } from '../condition.js';
import { compiled, ErrorCollector, type Compiled, type CompiledStep, type Failure } from '../types.js';

type Path = ReadonlyArray<string | number>;
type ConvertSpec = NonNullable<TransformStep['convert']>;
/** The converted value, or NOT to say the value can't be converted. */
type Converter = (value: unknown) => unknown;

const NOT = Symbol('not convertible');
const INTEGER = /^[+-]?\d+$/;
const BOOLEANS = new Map<string, boolean>([
  ['true', true], ['yes', true], ['on', true], ['1', true],
  ['false', false], ['no', false], ['off', false], ['0', false],
]);
const LONGEST_BOOLEAN = 5;

const CONVERTERS: Record<string, { converter: Converter; noun: string }> = {
  integer: {
    noun: 'an integer',
    converter: (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER.test(v) ? Number(v) : NaN;
      return Number.isSafeInteger(n) ? n : NOT;
    },
  },
  float: {
    noun: 'a number',
    converter: (v) => {
      const n = numberOf(v);
      return Number.isFinite(n) ? n : NOT;
    },
  },
  boolean: {
    noun: 'a boolean',
    converter: (v) => {
      if (typeof v === 'boolean') return v;
      if (v === 1 || v === 0) return v === 1;
      // The length check spares lowercasing a huge value that can't be a boolean.
      if (typeof v !== 'string' || v.length > LONGEST_BOOLEAN) return NOT;
      return BOOLEANS.get(v.toLowerCase()) ?? NOT;
    },
  },
  string: {
    noun: 'a string',
    converter: (v) => {
      if (typeof v === 'string') return v;
      if (typeof v !== 'object' || v === null) return String(v);
      try {
        return JSON.stringify(v) ?? NOT;
      } catch {
        return NOT; // nested too deeply for JSON.stringify's recursion
      }
    },
  },
};

/** `convert { field, type }`; an absent field is left absent, a value that won't convert fails the record. */
export function compileConvert(spec: ConvertSpec, at: Path): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const field = compileField(spec.field, [...at, 'field'], errors);
  const entry = Object.hasOwn(CONVERTERS, spec.type) ? CONVERTERS[spec.type] : undefined;
  if (!entry) errors.add([...at, 'type'], `must be one of ${Object.keys(CONVERTERS).join(', ')}`);
  if (errors.errors.length > 0 || !field || !entry) return { ok: false, errors: errors.errors };
  const { converter, noun } = entry;
  const { get, set, path } = field;
  return compiled((record) => {
    const value = get(record);
    if (value === undefined) return undefined;
    const converted = converter(value);
    if (converted === NOT) return failure(path, value, noun);
    set(record, converted);
    return undefined;
  });
}

function failure(path: string, value: unknown, noun: string): Failure {
  const integral = (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && INTEGER.test(value));
  const what = noun === 'an integer' && integral ? 'is not an integer in the safe range (±2^53)' : `is not ${noun}`;
  return { class: 'schema', message: `field "${path}" = ${shownValue(value)} ${what}` };
}

/** A value as shown in a failure message: JSON, at most 100 characters of it. */
export function shownValue(value: unknown): string {
  const cut = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}…` : text);
  if (typeof value === 'string') return JSON.stringify(cut(value));
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return cut(JSON.stringify(value) ?? String(value));
  } catch {
    return Array.isArray(value) ? 'an array' : 'an object';
  }
}
