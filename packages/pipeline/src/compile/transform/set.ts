import { textOf } from '../text.js';
import type { TransformStep } from '../../spec/steps.js';
import { compileField } from '../condition.js';
import { fieldAccess, safeFieldPath } from '../field-path.js';
import { compiled, ErrorCollector, type Compiled, type CompiledStep, type Fields } from '../types.js';

type Path = ReadonlyArray<string | number>;
type SetSpec = NonNullable<TransformStep['set']>;
export type Template = (record: Fields) => string;

// The schema's FieldPath pattern; unambiguous, so linear on V8.
const FIELD_PATH = /^[A-Za-z0-9_@$-]+(?:\.[A-Za-z0-9_@$-]+)*$/;

export function compileSet(spec: SetSpec, at: Path): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const target = compileField(spec.field, [...at, 'field'], errors);
  const value: unknown = spec.value;
  let template: Template | undefined;
  if (typeof value === 'string') template = compileTemplate(value, [...at, 'value'], errors);
  else if (value !== null && typeof value !== 'number' && typeof value !== 'boolean') {
    errors.add([...at, 'value'], 'must be a string, number, boolean or null');
  }
  if (errors.errors.length > 0 || !target) return { ok: false, errors: errors.errors };
  const set = target.set;
  if (template) {
    const render = template;
    return compiled((record) => {
      set(record, render(record));
      return undefined;
    });
  }
  return compiled((record) => {
    set(record, value);
    return undefined;
  });
}

/**
 * Compiles `{{ field.path }}` placeholders once into literal and field parts. Undefined when
 * the text has no placeholder (it is then set as it is), or after recording why it is malformed.
 */
export function compileTemplate(text: string, at: Path, errors: ErrorCollector): Template | undefined {
  const literals: string[] = [];
  const fields: Array<(record: Fields) => unknown> = [];
  let position = 0;
  for (let open = text.indexOf('{{'); open >= 0; open = text.indexOf('{{', position)) {
    const close = text.indexOf('}}', open + 2);
    if (close < 0) {
      errors.add(at, `"{{" at character ${open} is not closed by "}}"`);
      return undefined;
    }
    const path = text.slice(open + 2, close).trim();
    if (!FIELD_PATH.test(path)) {
      errors.add(at, `${quoted(text.slice(open, close + 2))} does not name a field (write {{ field.path }})`);
      return undefined;
    }
    if (!safeFieldPath(path)) {
      errors.add(at, `${quoted(path)} is not allowed: __proto__, prototype and constructor would reach the object prototype`);
      return undefined;
    }
    literals.push(text.slice(position, open));
    fields.push(fieldAccess(path).get);
    position = close + 2;
  }
  if (fields.length === 0) return undefined;
  const tail = text.slice(position);
  const [first, only] = [literals[0] ?? '', fields[0]];
  if (fields.length === 1 && only) return (record) => first + textOf(only(record)) + tail;
  return (record) => {
    let out = '';
    for (let i = 0; i < fields.length; i++) out += (literals[i] as string) + textOf((fields[i] as (r: Fields) => unknown)(record));
    return out + tail;
  };
}


const quoted = (text: string): string => JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
