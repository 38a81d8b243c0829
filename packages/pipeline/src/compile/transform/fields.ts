import type { TransformStep } from '../../spec/steps.js';
import { compileField } from '../condition.js';
import { fieldAccess, type FieldAccess } from '../field-path.js';
import { compiled, ErrorCollector, type Compiled, type CompiledStep, type Failure } from '../types.js';
import { compileFieldList } from './case.js';

type Path = ReadonlyArray<string | number>;
type MoveSpec = NonNullable<TransformStep['rename']>;
type RemoveSpec = NonNullable<TransformStep['remove']>;
type NestSpec = NonNullable<TransformStep['nest']>;

function fromTo(spec: MoveSpec, at: Path, errors: ErrorCollector) {
  const from = compileField(spec.from, [...at, 'from'], errors);
  const to = compileField(spec.to, [...at, 'to'], errors);
  if (from && to && from.path === to.path) errors.add([...at, 'to'], `is the same field as "from" (${from.path})`);
  return errors.errors.length > 0 || !from || !to ? undefined : { from, to };
}

/** `rename`: moves the value if the field is present; an absent field is left absent. */
export function compileRename(spec: MoveSpec, at: Path): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const paths = fromTo(spec, at, errors);
  if (!paths) return { ok: false, errors: errors.errors };
  const { from, to } = paths;
  return compiled((record) => {
    const value = from.remove(record);
    if (value !== undefined) to.set(record, value);
    return undefined;
  });
}

/** `copy`: a deep copy, so later steps changing one side don't change the other. */
export function compileCopy(spec: MoveSpec, at: Path): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const paths = fromTo(spec, at, errors);
  if (!paths) return { ok: false, errors: errors.errors };
  const { from, to } = paths;
  const tooDeep: Failure = { class: 'budget', message: `field "${from.path}" is nested too deeply to copy` };
  return compiled((record) => {
    const value = from.get(record);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null) {
      to.set(record, value);
      return undefined;
    }
    let copy: unknown;
    try {
      copy = structuredClone(value);
    } catch {
      // structuredClone recurses; a record nested tens of thousands deep exhausts the stack.
      return tooDeep;
    }
    to.set(record, copy);
    return undefined;
  });
}

export function compileRemove(spec: RemoveSpec, at: Path): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const fields = compileFieldList(spec.fields, [...at, 'fields'], errors);
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  const removers = fields.map((field) => field.remove);
  return compiled((record) => {
    for (const remove of removers) remove(record);
    return undefined;
  });
}

/** `nest { fields: [user, http.cart], under: app }` → `app.user`, `app.cart`. */
export function compileNest(spec: NestSpec, at: Path): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const fields = compileFieldList(spec.fields, [...at, 'fields'], errors);
  const under = compileField(spec.under, [...at, 'under'], errors);
  const moves: Array<{ remove: FieldAccess['remove']; set: FieldAccess['set'] }> = [];
  if (under) {
    const targets = new Map<string, string>();
    fields.forEach((field, i) => {
      const destination = `${under.path}.${field.path.slice(field.path.lastIndexOf('.') + 1)}`;
      const clash = targets.get(destination);
      if (destination === field.path) errors.add([...at, 'fields', i], `"${field.path}" is already under "${under.path}"`);
      else if (clash !== undefined) errors.add([...at, 'fields', i], `"${field.path}" and "${clash}" would both move to "${destination}"`);
      else {
        targets.set(destination, field.path);
        moves.push({ remove: field.remove, set: fieldAccess(destination).set });
      }
    });
  }
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  return compiled((record) => {
    for (const move of moves) {
      const value = move.remove(record);
      if (value !== undefined) move.set(record, value);
    }
    return undefined;
  });
}
