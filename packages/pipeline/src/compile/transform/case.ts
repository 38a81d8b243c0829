import type { TransformStep } from '../../spec/steps.js';
import { compileField } from '../condition.js';
import type { FieldAccess } from '../field-path.js';
import { compiled, ErrorCollector, type Compiled, type CompiledStep } from '../types.js';

type Path = ReadonlyArray<string | number>;
type CaseSpec = NonNullable<TransformStep['lowercase']>;

/** `lowercase` / `uppercase`: strings change case; other values are left as they are. */
export function compileCase(spec: CaseSpec, at: Path, to: 'lower' | 'upper'): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const fields = compileFieldList(spec.fields, [...at, 'fields'], errors);
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  const change = to === 'lower' ? (s: string) => s.toLowerCase() : (s: string) => s.toUpperCase();
  return compiled((record) => {
    for (const field of fields) {
      const value = field.get(record);
      if (typeof value === 'string') field.set(record, change(value));
    }
    return undefined;
  });
}

/** Compiles every path of a `fields` list, reporting each bad one at its index. */
export function compileFieldList(paths: unknown, at: Path, errors: ErrorCollector): FieldAccess[] {
  if (!Array.isArray(paths) || paths.length === 0) {
    errors.add(at, 'must be a non-empty list of field paths');
    return [];
  }
  const out: FieldAccess[] = [];
  paths.forEach((path, i) => {
    const access = compileField(path, [...at, i], errors);
    if (access) out.push(access);
  });
  return out;
}
