import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileJson } from './json.js';
import { compileParseStep } from './index.js';
import { AT, assertPolluted, env, errorsOf, run, step } from './testing.js';

const json = (spec: Parameters<typeof compileJson>[0] = {}) => step(compileJson(spec, AT, env));

test('an object is merged into the root, overwriting', () => {
  const { outcome, record } = run(json(), { message: '{"level":"info","msg":"paid","n":1,"a":{"b":[1,2]}}', level: 'x' });
  assert.equal(outcome, undefined);
  assert.deepEqual(record, { message: '{"level":"info","msg":"paid","n":1,"a":{"b":[1,2]}}', level: 'info', msg: 'paid', n: 1, a: { b: [1, 2] } });
});

test('an object is set whole at target, from another field', () => {
  const { outcome, record } = run(json({ field: 'kubernetes.raw', target: 'app' }), { kubernetes: { raw: '{"x":"é😀"}' }, app: { old: 1 } });
  assert.equal(outcome, undefined);
  assert.deepEqual(record.app, { x: 'é😀' });
});

test('non-objects are wrapped at json, or at target', () => {
  for (const [text, value] of [['42', 42], ['"x"', 'x'], ['[1]', [1]], ['null', null], ['true', true]] as const) {
    assert.deepEqual(run(json(), { message: text }).record.json, value);
    assert.deepEqual(run(json({ target: 'body' }), { message: text }).record.body, value);
  }
});

test('nonObject: fail makes a non-object a parse failure', () => {
  const { outcome, record } = run(json({ nonObject: 'fail' }), { message: '[1]' });
  assert.deepEqual(outcome, { class: 'parse', message: 'field "message" is JSON but not an object: it holds an array' });
  assert.deepEqual(record, { message: '[1]' });
});

test('invalid JSON is a parse failure naming the field and the parser message', () => {
  const { outcome, record } = run(json(), { message: '{"level":"info","msg":"trunc' });
  assert.deepEqual(outcome, { class: 'parse', message: 'field "message" is not valid JSON: Unterminated string in JSON at position 28' });
  assert.deepEqual(record, { message: '{"level":"info","msg":"trunc' });
  assert.deepEqual(run(json(), { message: '{"a":1' }).outcome, {
    class: 'parse',
    message: `field "message" is not valid JSON: Expected ',' or '}' after property value in JSON at position 6`,
  });
  assert.deepEqual(run(json(), { message: '' }).outcome, { class: 'parse', message: 'field "message" is not valid JSON: the field is empty' });
});

test('a line cut at 16 KiB by the container runtime gets a hint', () => {
  const line = `{"msg":"${'x'.repeat(16 * 1024 - 8)}`;
  assert.equal(Buffer.byteLength(line), 16384);
  const outcome = run(json(), { message: line }).outcome;
  assert.ok(typeof outcome === 'object' && /not valid JSON: .*exactly 16 KiB/.test(outcome.message), JSON.stringify(outcome));
});

test('a missing or non-string field is a parse failure', () => {
  assert.deepEqual(run(json(), {}).outcome, { class: 'parse', message: 'field "message" is missing' });
  assert.deepEqual(run(json(), { message: 12 }).outcome, { class: 'parse', message: 'field "message" is a number, not a string' });
  assert.deepEqual(run(json(), { message: { a: 1 } }).outcome, { class: 'parse', message: 'field "message" is an object, not a string' });
  assert.deepEqual(run(json(), { message: null }).outcome, { class: 'parse', message: 'field "message" is null, not a string' });
});

test('__proto__ from JSON stays an own data key and pollutes nothing', () => {
  for (const spec of [{}, { target: 'app' }]) {
    const { outcome, record } = run(json(spec), { message: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"ok":1}' });
    assert.equal(outcome, undefined);
    assertPolluted();
    const into = (spec.target ? record.app : record) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(into), Object.prototype);
    assert.ok(Object.hasOwn(into, '__proto__'));
    assert.deepEqual(Object.getOwnPropertyDescriptor(into, '__proto__')?.value, { polluted: true });
    assert.equal((into as { polluted?: unknown }).polluted, undefined);
    assert.equal(into.ok, 1);
  }
});

test('a 1 MB line parses, and a broken one fails with a short message', () => {
  const big = JSON.stringify({ msg: 'x'.repeat(1024 * 1024), list: Array.from({ length: 1000 }, (_, i) => i) });
  const { outcome, record } = run(json(), { message: big });
  assert.equal(outcome, undefined);
  assert.equal((record.msg as string).length, 1024 * 1024);
  const broken = run(json(), { message: big.slice(0, -2) }).outcome;
  assert.ok(typeof broken === 'object' && broken.class === 'parse' && broken.message.length < 400, JSON.stringify(broken).slice(0, 500));
  const garbage = run(json(), { message: `{"a":${'y'.repeat(1024 * 1024)}}` }).outcome;
  assert.ok(typeof garbage === 'object' && garbage.message.length < 400);
});

test('field and target paths that reach a prototype are compile errors at their path', () => {
  assert.deepEqual(errorsOf(compileJson({ field: '__proto__.x', target: 'a.constructor' }, AT, env)), [
    { segments: ['spec', 'parse', 2, 'json', 'field'], reason: 'segment "__proto__" is not allowed: it would reach the prototype of every object' },
    { segments: ['spec', 'parse', 2, 'json', 'target'], reason: 'segment "constructor" is not allowed: it would reach the prototype of every object' },
  ]);
});

test('compileParseStep dispatches on the step kind', () => {
  const result = compileParseStep({ json: {} }, AT, env);
  assert.ok(result.ok);
  assert.deepEqual(errorsOf(compileParseStep({ json: { target: 'prototype' } }, AT, env))[0]?.segments, ['spec', 'parse', 2, 'json', 'target']);
  assert.deepEqual(errorsOf(compileParseStep({}, AT, env)), [{ segments: AT, reason: 'not a parse step: expected one of json, regex, logfmt, keyValue, timestamp, level, got nothing' }]);
});
