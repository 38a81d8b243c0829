import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransformStep } from '../../spec/steps.js';
import { compilerUnderTest, testEnv } from '../testing.js';
import type { CompiledStep, StepOutcome } from '../types.js';
import { compileTransformStep } from './index.js';

const at = ['spec', 'transform', 5];
const { compiles: step } = compilerUnderTest(compileTransformStep, at);
/** The converted value of `x`, or the failure. */
function convert(type: string, x: unknown): unknown {
  const record = { x };
  const outcome: StepOutcome = step({ convert: { field: 'x', type } })(record);
  return outcome ?? record.x;
}
const failure = (message: string) => ({ class: 'schema', message });

test('integer', () => {
  assert.equal(convert('integer', '42'), 42);
  assert.equal(convert('integer', '-007'), -7);
  assert.equal(convert('integer', '+3'), 3);
  assert.equal(convert('integer', 12), 12);
  assert.deepEqual(convert('integer', 'abc'), failure('field "x" = "abc" is not an integer'));
  assert.deepEqual(convert('integer', '3.5'), failure('field "x" = "3.5" is not an integer'));
  assert.deepEqual(convert('integer', 3.5), failure('field "x" = 3.5 is not an integer'));
  assert.deepEqual(convert('integer', ' 3'), failure('field "x" = " 3" is not an integer'));
  assert.deepEqual(convert('integer', true), failure('field "x" = true is not an integer'));
  assert.deepEqual(convert('integer', '99999999999999999999'), failure('field "x" = "99999999999999999999" is not an integer in the safe range (±2^53)'));
});

test('float', () => {
  assert.equal(convert('float', '3.25'), 3.25);
  assert.equal(convert('float', '-1e3'), -1000);
  assert.equal(convert('float', 7), 7);
  assert.deepEqual(convert('float', '1e999'), failure('field "x" = "1e999" is not a number'));
  assert.deepEqual(convert('float', ''), failure('field "x" = "" is not a number'));
  assert.deepEqual(convert('float', '0x10'), failure('field "x" = "0x10" is not a number'));
  assert.deepEqual(convert('float', null), failure('field "x" = null is not a number'));
});

test('boolean', () => {
  for (const yes of ['true', 'TRUE', 'Yes', 'on', '1', 1, true]) assert.equal(convert('boolean', yes), true, String(yes));
  for (const no of ['false', 'No', 'OFF', '0', 0, false]) assert.equal(convert('boolean', no), false, String(no));
  assert.deepEqual(convert('boolean', 'maybe'), failure('field "x" = "maybe" is not a boolean'));
  assert.deepEqual(convert('boolean', 2), failure('field "x" = 2 is not a boolean'));
});

test('string', () => {
  assert.equal(convert('string', 42), '42');
  assert.equal(convert('string', false), 'false');
  assert.equal(convert('string', null), 'null');
  assert.equal(convert('string', { a: [1] }), '{"a":[1]}');
  assert.equal(convert('string', 's'), 's');
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal((convert('string', deep) as { class: string }).class, 'schema');
});

test('an absent field is left absent; shown values are cut at 100 characters', () => {
  const record = {};
  assert.equal(step({ convert: { field: 'a.b', type: 'integer' } })(record), undefined);
  assert.deepEqual(record, {});
  const long = convert('integer', 'z'.repeat(1_000_000)) as { message: string };
  assert.equal(long.message, `field "x" = "${'z'.repeat(100)}…" is not an integer`);
  const object = convert('float', { k: 'v'.repeat(500) }) as { message: string };
  assert.equal(object.message, `field "x" = {"k":"${'v'.repeat(94)}… is not a number`);
});

test('convert compile errors', () => {
  const result = compileTransformStep({ convert: { field: '__proto__', type: 'date' } } as unknown as TransformStep, at, testEnv);
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.errors, [
    { segments: [...at, 'convert', 'field'], reason: '"__proto__" is not allowed: __proto__, prototype and constructor would reach the object prototype' },
    { segments: [...at, 'convert', 'type'], reason: 'must be one of integer, float, boolean, string' },
  ]);
});
