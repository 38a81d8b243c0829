import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLogfmt, parseLogfmt } from './logfmt.js';
import { AT, assertPolluted, env, errorsOf, run, step } from './testing.js';

const logfmt = step(compileLogfmt({}, AT, env));

test('pairs, quoted values with escapes, and bare flags', () => {
  const line = 'key=value key2="quoted \\"value\\" with spaces" flag';
  const { outcome, record } = run(logfmt, { message: line });
  assert.equal(outcome, undefined);
  assert.deepEqual(record, { message: line, key: 'value', key2: 'quoted "value" with spaces', flag: true });
});

test('edge cases of the grammar', () => {
  assert.deepEqual(parseLogfmt('a= b=""  c=1\td="x\\ny\\\\z\\u00e9" dotted.key=v'), { a: '', b: '', c: '1', d: 'x\ny\\zé', 'dotted.key': 'v' });
  assert.deepEqual(parseLogfmt('level=info msg="unterminated and cut'), { level: 'info', msg: 'unterminated and cut' });
  assert.deepEqual(parseLogfmt('=orphan a=1 =x'), { a: '1' });
  assert.deepEqual(parseLogfmt('url=http://x/?q=1&r=2 n=1 n=2'), { url: 'http://x/?q=1&r=2', n: '2' });
  assert.deepEqual(parseLogfmt('ünï=çødé 😀="😀 😀"'), { ünï: 'çødé', '😀': '😀 😀' });
  assert.deepEqual(parseLogfmt('a="x\\'), { a: 'x\\' });
});

test('target merges into an object', () => {
  const s = step(compileLogfmt({ field: 'raw', target: 'kv' }, AT, env));
  assert.deepEqual(run(s, { raw: 'a=1 b', kv: { z: 0 } }).record, { raw: 'a=1 b', kv: { z: 0, a: '1', b: true } });
});

test('no key=value pair, missing and non-string fields are parse failures', () => {
  for (const message of ['', '   ', 'just some words', '=x =y']) {
    const { outcome, record } = run(logfmt, { message });
    assert.deepEqual(outcome, { class: 'parse', message: 'field "message" is not logfmt: it has no key=value pair' }, message);
    assert.deepEqual(record, { message });
  }
  assert.deepEqual(run(logfmt, {}).outcome, { class: 'parse', message: 'field "message" is missing' });
  assert.deepEqual(run(logfmt, { message: true }).outcome, { class: 'parse', message: 'field "message" is a boolean, not a string' });
});

test('__proto__ keys stay own data', () => {
  const { record } = run(logfmt, { message: '__proto__=x constructor=y prototype=z polluted' });
  assertPolluted();
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(record, '__proto__')?.value, 'x');
  assert.equal(record.constructor, 'y');
  const nested = run(step(compileLogfmt({ target: 't' }, AT, env)), { message: '__proto__=x' }).record.t as object;
  assert.equal(Object.getPrototypeOf(nested), Object.prototype);
  assertPolluted();
});

test('a long line is parsed in linear time', () => {
  const line = Array.from({ length: 50_000 }, (_, i) => `k${i}="v ${i}"`).join(' ');
  const started = performance.now();
  const values = parseLogfmt(line);
  assert.equal(Object.keys(values ?? {}).length, 50_000);
  assert.ok(performance.now() - started < 1000);
});

test('bad paths are compile errors', () => {
  assert.deepEqual(errorsOf(compileLogfmt({ target: 'x.__proto__' }, AT, env)), [
    { segments: ['spec', 'parse', 2, 'logfmt', 'target'], reason: 'segment "__proto__" is not allowed: it would reach the prototype of every object' },
  ]);
});
