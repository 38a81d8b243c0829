import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileKeyValue, parseKeyValue } from './key-value.js';
import { AT, assertPolluted, env, errorsOf, run, step } from './testing.js';

test('defaults: space and =, quoted values, tokens without = skipped', () => {
  const s = step(compileKeyValue({}, AT, env));
  const { outcome, record } = run(s, { message: 'user=bob msg="a b \\"c\\"" noise id=7' });
  assert.equal(outcome, undefined);
  assert.deepEqual(record, { message: 'user=bob msg="a b \\"c\\"" noise id=7', user: 'bob', msg: 'a b "c"', id: '7' });
});

test('multi-character separators, spaces around keys and values', () => {
  assert.deepEqual(parseKeyValue('user => bob; id => "4; 2" ;  x => 1', '; ', ' => '), { user: 'bob', id: '4; 2', x: '1' });
  assert.deepEqual(parseKeyValue('a:1, b: 2,c:"x,y" ,d:', ',', ':'), { a: '1', b: '2', c: 'x,y', d: '' });
  assert.deepEqual(parseKeyValue('a=1&b=2&&junk&c=é😀', '&', '='), { a: '1', b: '2', c: 'é😀' });
  assert.deepEqual(parseKeyValue('a=b=c d=', ' ', '='), { a: 'b=c', d: '' });
  assert.deepEqual(parseKeyValue('a="unterminated', ' ', '='), { a: 'unterminated' });
});

test('target, and no pair being a failure', () => {
  const s = step(compileKeyValue({ field: 'q', target: 'query', pairSeparator: '&' }, AT, env));
  assert.deepEqual(run(s, { q: 'a=1&b=2' }).record, { q: 'a=1&b=2', query: { a: '1', b: '2' } });
  for (const q of ['', 'nothing here', '=1&=2']) {
    assert.deepEqual(run(s, { q }).outcome, { class: 'parse', message: 'field "q" has no key=value pair' }, q);
  }
  assert.deepEqual(run(s, {}).outcome, { class: 'parse', message: 'field "q" is missing' });
  assert.deepEqual(run(s, { q: 1 }).outcome, { class: 'parse', message: 'field "q" is a number, not a string' });
});

test('__proto__ keys pollute nothing', () => {
  const s = step(compileKeyValue({}, AT, env));
  const { record } = run(s, { message: '__proto__=1 polluted=no' });
  assertPolluted();
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
  assert.ok(Object.hasOwn(record, '__proto__'));
});

test('compile errors: separators inside one another, quotes, bad paths', () => {
  assert.deepEqual(errorsOf(compileKeyValue({ pairSeparator: ', ', valueSeparator: ',' }, AT, env)), [
    { segments: ['spec', 'parse', 2, 'keyValue', 'valueSeparator'], reason: 'pairSeparator ", " and valueSeparator "," must not contain one another' },
  ]);
  assert.deepEqual(errorsOf(compileKeyValue({ pairSeparator: '=' }, AT, env))[0]?.segments, ['spec', 'parse', 2, 'keyValue', 'pairSeparator']);
  assert.deepEqual(errorsOf(compileKeyValue({ pairSeparator: '"' }, AT, env)).at(-1), {
    segments: ['spec', 'parse', 2, 'keyValue', 'pairSeparator'],
    reason: 'a separator cannot contain `"`: it quotes values',
  });
  assert.deepEqual(errorsOf(compileKeyValue({ field: 'constructor' }, AT, env))[0]?.segments, ['spec', 'parse', 2, 'keyValue', 'field']);
});
