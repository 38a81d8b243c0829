import { visible } from '../visible.js';
import assert from 'node:assert/strict';
import { compileTenantRegex } from '../regex.js';
import type { CompileEnv, CompileError, Compiled, CompiledStep, Fields, StepOutcome } from '../types.js';

/** Helpers for the parse steps' tests. */
export const env: CompileEnv = { regex: compileTenantRegex };
export const AT = ['spec', 'parse', 2] as const;

export function step(result: Compiled<CompiledStep>): CompiledStep {
  if (!result.ok) assert.fail(`expected the step to compile: ${JSON.stringify(result.errors)}`);
  return result.value;
}

export function errorsOf(result: Compiled<CompiledStep>): CompileError[] {
  if (result.ok) assert.fail('expected compile errors');
  return [...result.errors];
}

/** Runs a step on a copy of `input` and returns what it did and the record after. */
export function run(compiledStep: CompiledStep, input: Fields): { outcome: StepOutcome; record: Fields } {
  const record = structuredClone(input);
  const outcome = compiledStep(record);
  return { outcome, record: visible(record) };
}

export function assertPolluted(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
}
