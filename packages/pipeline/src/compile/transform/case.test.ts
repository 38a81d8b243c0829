import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransformStep } from '../../spec/steps.js';
import { compilerUnderTest, testEnv } from '../testing.js';
import type { CompiledStep, Fields } from '../types.js';
import { compileTransformStep } from './index.js';

const at = ['spec', 'transform', 2];
const { compiles: step } = compilerUnderTest(compileTransformStep, at);

test('lowercase and uppercase change strings only', () => {
  const record: Fields = { level: 'WARN', http: { method: 'get' }, n: 5, o: { A: 'B' }, nil: null };
  assert.equal(step({ lowercase: { fields: ['level', 'n', 'o', 'nil', 'absent'] } })(record), undefined);
  assert.equal(step({ uppercase: { fields: ['http.method'] } })(record), undefined);
  assert.deepEqual(record, { level: 'warn', http: { method: 'GET' }, n: 5, o: { A: 'B' }, nil: null });
  const big: Fields = { m: 'É'.repeat(1_000_000) };
  step({ lowercase: { fields: ['m'] } })(big);
  assert.equal(big.m, 'é'.repeat(1_000_000));
});

test('case compile errors point at the bad entry', () => {
  const result = compileTransformStep({ uppercase: { fields: ['ok', '__proto__'] } } as TransformStep, at, testEnv);
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.errors.map((e) => e.segments), [[...at, 'uppercase', 'fields', 1]]);
});
