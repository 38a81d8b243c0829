import assert from 'node:assert/strict';
import { compileTenantRegex } from './regex.js';
import type { CompileEnv, Compiled, CompileError } from './types.js';

/** The environment compile functions get in tests: real RE2. */
export const testEnv: CompileEnv = { regex: compileTenantRegex };

/**
 * Test helpers around one compile function at one manifest path: `compiles` returns the
 * compiled value (failing the test on errors), `errorsOf` the errors (failing it on success).
 */
export function compilerUnderTest<S, T>(
  compile: (spec: S, at: ReadonlyArray<string | number>, env: CompileEnv) => Compiled<T>,
  at: ReadonlyArray<string | number>,
): { compiles(spec: unknown): T; errorsOf(spec: unknown): CompileError[] } {
  return {
    compiles(spec) {
      const result = compile(spec as S, at, testEnv);
      assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
      return result.value;
    },
    errorsOf(spec) {
      const result = compile(spec as S, at, testEnv);
      assert.equal(result.ok, false, 'expected a compile error');
      return result.ok ? [] : [...result.errors];
    },
  };
}
