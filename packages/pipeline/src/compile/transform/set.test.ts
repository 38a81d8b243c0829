import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransformStep } from '../../spec/steps.js';
import { compilerUnderTest } from '../testing.js';
import type { CompiledStep, CompileError, Fields } from '../types.js';
import { compileTransformStep } from './index.js';

const at = ['spec', 'transform', 0];
const { compiles: step, errorsOf } = compilerUnderTest(compileTransformStep, at);
const run = (spec: unknown, record: Fields): Fields => {
  assert.equal(step(spec)(record), undefined);
  return record;
};

test('set writes scalars as they are, creating parents', () => {
  assert.deepEqual(run({ set: { field: 'service.name', value: 'checkout' } }, { message: 'm' }), { message: 'm', service: { name: 'checkout' } });
  assert.deepEqual(run({ set: { field: 'n', value: 42 } }, {}), { n: 42 });
  assert.deepEqual(run({ set: { field: 'b', value: false } }, { b: 'x' }), { b: false });
  assert.deepEqual(run({ set: { field: 'z', value: null } }, {}), { z: null });
  assert.deepEqual(run({ set: { field: 'a.b', value: 'x' } }, { a: 'not an object' }), { a: { b: 'x' } });
  assert.deepEqual(run({ set: { field: 'brace', value: 'a } b }} c' } }, {}), { brace: 'a } b }} c' }, 'a lone "}}" is text');
});

test('set templates: fields filled in, missing ones empty, objects as JSON', () => {
  const s = step({ set: { field: 'summary', value: '{{ http.method }} {{http.path}} -> {{ http.status }} ok={{ok}} u={{user}}{{ missing }}!' } });
  const record: Fields = { http: { method: 'GET', path: '/cart', status: 200 }, ok: true, user: { id: 7 } };
  assert.equal(s(record), undefined);
  assert.equal(record.summary, 'GET /cart -> 200 ok=true u={"id":7}!');
  assert.deepEqual(run({ set: { field: 'x', value: '{{ a }}' } }, { a: 5 }), { a: 5, x: '5' }, 'a lone placeholder still gives a string');
  assert.deepEqual(run({ set: { field: 'x', value: '{{ a }}' } }, { a: null }), { a: null, x: '' });
  assert.deepEqual(run({ set: { field: 'x', value: '[{{ a }}]' } }, { a: ['p', 1] }), { a: ['p', 1], x: '[["p",1]]' });
  const big = 'y'.repeat(1_000_000);
  assert.equal(run({ set: { field: 'x', value: '<{{ a }}>' } }, { a: big }).x, `<${big}>`);
});

test('set never throws on records JSON.stringify would choke on', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = { d: deep };
  const record: Fields = { a: deep, b: { toJSON: 'not a function', toString: 'nope' } };
  assert.equal(step({ set: { field: 'x', value: '{{a}}|{{b}}' } })(record), undefined);
  assert.equal(record.x, '|{"toJSON":"not a function","toString":"nope"}');
});

test('set compile errors: bad templates at set.value, unsafe paths', () => {
  assert.deepEqual(errorsOf({ set: { field: 'x', value: 'hello {{ user' } }), [
    { segments: [...at, 'set', 'value'], reason: '"{{" at character 6 is not closed by "}}"' },
  ]);
  assert.deepEqual(errorsOf({ set: { field: 'x', value: 'a {{ }} b' } }), [
    { segments: [...at, 'set', 'value'], reason: '"{{ }}" does not name a field (write {{ field.path }})' },
  ]);
  assert.equal(errorsOf({ set: { field: 'x', value: '{{ a b }}' } })[0]?.reason, '"{{ a b }}" does not name a field (write {{ field.path }})');
  assert.equal(errorsOf({ set: { field: 'x', value: '{{ a..b }}' } }).length, 1);
  assert.deepEqual(errorsOf({ set: { field: 'x', value: '{{ __proto__.polluted }}' } })[0]?.segments, [...at, 'set', 'value']);
  const both = errorsOf({ set: { field: '__proto__.polluted', value: '{{ constructor }}' } });
  assert.deepEqual(both.map((e) => e.segments), [
    [...at, 'set', 'field'],
    [...at, 'set', 'value'],
  ]);
  assert.match(both[0]?.reason ?? '', /"__proto__.polluted" is not allowed/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('only one transform per step', () => {
  assert.deepEqual(errorsOf({ set: { field: 'a', value: 1 }, remove: { fields: ['b'] } }), [
    { segments: at, reason: 'use exactly one of set, rename, copy, remove, redact, lowercase, uppercase, convert, nest; got set and remove' },
  ]);
});
