import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRegex } from './regex.js';
import { AT, assertPolluted, env, errorsOf, run, step } from './testing.js';

const PATTERN = ['spec', 'parse', 2, 'regex', 'pattern'];

test('named groups are set at the root, Python and JS group syntax alike', () => {
  const s = step(compileRegex({ pattern: '^(?P<method>[A-Z]+) (?<path>\\S+) (?P<status>\\d{3})$' }, AT, env));
  const { outcome, record } = run(s, { message: 'GET /pay 200' });
  assert.equal(outcome, undefined);
  assert.deepEqual(record, { message: 'GET /pay 200', method: 'GET', path: '/pay', status: '200' });
});

test('under target, groups merge into an existing object', () => {
  const s = step(compileRegex({ field: 'line', pattern: '(?P<user>\\w+)@(?P<host>[\\w.]+)', target: 'who' }, AT, env));
  assert.deepEqual(run(s, { line: 'mail bob@example.org', who: { kept: 1 } }).record.who, { kept: 1, user: 'bob', host: 'example.org' });
  assert.deepEqual(run(s, { line: 'bob@x', who: 'scalar' }).record.who, { user: 'bob', host: 'x' });
});

test('an optional group that did not match is not set', () => {
  const s = step(compileRegex({ pattern: '^(?P<a>\\w+)(?: (?P<b>\\d+))?$' }, AT, env));
  assert.deepEqual(run(s, { message: 'x' }).record, { message: 'x', a: 'x' });
  assert.deepEqual(run(s, { message: 'x 1' }).record, { message: 'x 1', a: 'x', b: '1' });
  // An empty match of a group that took part is still set.
  const empty = step(compileRegex({ pattern: '^(?P<a>\\w*)$' }, AT, env));
  assert.deepEqual(run(empty, { message: '' }).record, { message: '', a: '' });
});

test('unicode input', () => {
  const s = step(compileRegex({ pattern: '^(?P<word>\\p{L}+) (?P<rest>.+)$' }, AT, env));
  assert.deepEqual(run(s, { message: 'Grüße 😀 ok' }).record, { message: 'Grüße 😀 ok', word: 'Grüße', rest: '😀 ok' });
});

test('no match, a missing or a non-string field are parse failures, and leave the record alone', () => {
  const s = step(compileRegex({ pattern: '^(?P<n>\\d+)$' }, AT, env));
  const { outcome, record } = run(s, { message: 'abc' });
  assert.deepEqual(outcome, { class: 'parse', message: 'field "message" does not match the pattern' });
  assert.deepEqual(record, { message: 'abc' });
  assert.deepEqual(run(s, {}).outcome, { class: 'parse', message: 'field "message" is missing' });
  assert.deepEqual(run(s, { message: ['1'] }).outcome, { class: 'parse', message: 'field "message" is an array, not a string' });
});

test('a pathological pattern stays linear on RE2', () => {
  const s = step(compileRegex({ pattern: '^(?P<a>(a+)+)$' }, AT, env));
  const started = performance.now();
  assert.deepEqual(run(s, { message: `${'a'.repeat(100_000)}!` }).outcome, { class: 'parse', message: 'field "message" does not match the pattern' });
  assert.ok(performance.now() - started < 1000);
});

test('compile errors: no named groups, bad syntax, backreferences, forbidden group names, bad paths', () => {
  assert.deepEqual(errorsOf(compileRegex({ pattern: '^(\\d+)$' }, AT, env)), [
    { segments: PATTERN, reason: 'has no named groups: use (?P<name>…) to say which fields to extract' },
  ]);
  const [syntax] = errorsOf(compileRegex({ pattern: '(?P<a>' }, AT, env));
  assert.deepEqual(syntax?.segments, PATTERN);
  assert.match(syntax?.reason ?? '', /not a valid RE2 regular expression/);
  assert.match(errorsOf(compileRegex({ pattern: '(?P<a>x)\\1' }, AT, env))[0]?.reason ?? '', /backreferences/);
  assert.deepEqual(errorsOf(compileRegex({ pattern: '(?P<__proto__>.*)' }, AT, env)), [
    { segments: PATTERN, reason: 'group name "__proto__" is not allowed: it would reach the prototype of every object' },
  ]);
  // All errors of the step at once.
  assert.deepEqual(
    errorsOf(compileRegex({ field: 'a.__proto__', target: 'prototype', pattern: 'x' }, AT, env)).map((e) => e.segments.at(-1)),
    ['field', 'target', 'pattern'],
  );
  assertPolluted();
});
