import type { TransformStep } from '../../spec/steps.js';
import { exactlyOne } from '../condition.js';
import { compileError, type CompileEnv, type Compiled, type CompiledStep } from '../types.js';
import { compileCase } from './case.js';
import { compileConvert } from './convert.js';
import { compileCopy, compileNest, compileRemove, compileRename } from './fields.js';
import { compileRedact } from './redact.js';
import { compileSet } from './set.js';

const KINDS = ['set', 'rename', 'copy', 'remove', 'redact', 'lowercase', 'uppercase', 'convert', 'nest'] as const;

/** One transform step; its `if` guard is the pipeline's business. */
export function compileTransformStep(step: TransformStep, at: ReadonlyArray<string | number>, env: CompileEnv): Compiled<CompiledStep> {
  const given = KINDS.filter((kind) => step[kind] !== undefined);
  const kind = given[0];
  if (given.length !== 1 || kind === undefined) return compileError(at, exactlyOne(KINDS, given));
  const here = [...at, kind];
  switch (kind) {
    case 'set':
      return compileSet(step.set!, here);
    case 'rename':
      return compileRename(step.rename!, here);
    case 'copy':
      return compileCopy(step.copy!, here);
    case 'remove':
      return compileRemove(step.remove!, here);
    case 'redact':
      return compileRedact(step.redact!, here, env);
    case 'lowercase':
      return compileCase(step.lowercase!, here, 'lower');
    case 'uppercase':
      return compileCase(step.uppercase!, here, 'upper');
    case 'convert':
      return compileConvert(step.convert!, here);
    case 'nest':
      return compileNest(step.nest!, here);
  }
}
