import type { ParseStep } from '../../spec/steps.js';
import { compileError, type CompileEnv, type Compiled, type CompiledStep } from '../types.js';
import { compileJson } from './json.js';
import { compileKeyValue } from './key-value.js';
import { compileLevel } from './level.js';
import { compileLogfmt } from './logfmt.js';
import { compileRegex } from './regex.js';
import { compileTimestamp } from './timestamp.js';

export { compileJson, compileKeyValue, compileLevel, compileLogfmt, compileRegex, compileTimestamp };

/**
 * Compiles one parse step. `at` is the step's manifest path (`['spec', 'parse', 2]`);
 * errors point below it, at `[...at, <kind>, <field>]`. The step's `if` guard is left to
 * the caller: the closure returned here runs unconditionally.
 */
export function compileParseStep(step: ParseStep, at: ReadonlyArray<string | number>, env: CompileEnv): Compiled<CompiledStep> {
  if (step.json) return compileJson(step.json, at, env);
  if (step.regex) return compileRegex(step.regex, at, env);
  if (step.logfmt) return compileLogfmt(step.logfmt, at, env);
  if (step.keyValue) return compileKeyValue(step.keyValue, at, env);
  if (step.timestamp) return compileTimestamp(step.timestamp, at, env);
  if (step.level) return compileLevel(step.level, at, env);
  // The schema guarantees exactly one kind; this only guards callers that skipped validation.
  return compileError(at, `not a parse step: expected one of json, regex, logfmt, keyValue, timestamp, level, got ${Object.keys(step).join(', ') || 'nothing'}`);
}
