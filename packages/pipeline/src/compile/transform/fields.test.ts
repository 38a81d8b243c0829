import { visible } from '../visible.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransformStep } from '../../spec/steps.js';
import { compilerUnderTest } from '../testing.js';
import type { CompiledStep, CompileError, Fields } from '../types.js';
import { compileTransformStep } from './index.js';

const at = ['spec', 'transform', 3];
const { compiles: step, errorsOf } = compilerUnderTest(compileTransformStep, at);
const run = (spec: unknown, record: Fields): Fields => {
  assert.equal(step(spec)(record), undefined);
  return visible(record);
};

test('rename moves a present value (null included); an absent one is a no-op', () => {
  const rename = step({ rename: { from: 'msg', to: 'message' } });
  const record: Fields = { msg: 'order placed', level: 'info' };
  assert.equal(rename(record), undefined);
  assert.deepEqual(visible(record), { level: 'info', message: 'order placed' });
  assert.deepEqual(run({ rename: { from: 'msg', to: 'message' } }, { message: 'kept' }), { message: 'kept' });
  assert.deepEqual(run({ rename: { from: 'a.b', to: 'c.d' } }, { a: { b: null, x: 1 } }), { a: { x: 1 }, c: { d: null } });
  assert.deepEqual(run({ rename: { from: 'a', to: 'a.b' } }, { a: 1 }), { a: { b: 1 } });
  assert.deepEqual(run({ rename: { from: 'a.b', to: 'a' } }, { a: { b: 2 } }), { a: 2 });
});

test('copy is deep', () => {
  const record: Fields = { user: { id: 7, roles: ['admin'] } };
  run({ copy: { from: 'user', to: 'audit.user' } }, record);
  (record.user as { roles: string[] }).roles.push('x');
  assert.deepEqual(record.audit, { user: { id: 7, roles: ['admin'] } });
  assert.deepEqual(run({ copy: { from: 'a', to: 'b' } }, { a: 's' }), { a: 's', b: 's' });
  assert.deepEqual(run({ copy: { from: 'none', to: 'b' } }, {}), {});
});

test('copy of a record nested too deep for structuredClone fails the record, not the process', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = { d: deep };
  const record: Fields = { a: deep };
  assert.deepEqual(step({ copy: { from: 'a', to: 'b' } })(record), { class: 'budget', message: 'field "a" is nested too deeply to copy' });
  assert.equal(record.b, undefined);
});

test('remove and nest', () => {
  assert.deepEqual(run({ remove: { fields: ['password', 'http.headers.cookie', 'absent'] } }, { password: 'p', http: { headers: { cookie: 'c', host: 'h' } } }), {
    http: { headers: { host: 'h' } },
  });
  assert.deepEqual(run({ nest: { fields: ['user', 'http.cart', 'absent'], under: 'app' } }, { user: 'u', http: { cart: [1], method: 'GET' } }), {
    http: { method: 'GET' },
    app: { user: 'u', cart: [1] },
  });
});

test('compile errors: from = to, unsafe paths, clashing nests', () => {
  assert.deepEqual(errorsOf({ rename: { from: 'a.b', to: 'a.b' } }), [{ segments: [...at, 'rename', 'to'], reason: 'is the same field as "from" (a.b)' }]);
  assert.deepEqual(errorsOf({ copy: { from: 'x', to: 'x' } })[0]?.segments, [...at, 'copy', 'to']);
  assert.deepEqual(errorsOf({ rename: { from: 'x', to: '__proto__.isAdmin' } })[0]?.segments, [...at, 'rename', 'to']);
  assert.deepEqual(errorsOf({ copy: { from: 'constructor.prototype', to: 'x' } })[0]?.segments, [...at, 'copy', 'from']);
  assert.deepEqual(errorsOf({ remove: { fields: ['ok', 'a.__proto__'] } })[0]?.segments, [...at, 'remove', 'fields', 1]);
  assert.deepEqual(errorsOf({ nest: { fields: ['a.id', 'b.id'], under: 'ids' } }), [
    { segments: [...at, 'nest', 'fields', 1], reason: '"b.id" and "a.id" would both move to "ids.id"' },
  ]);
  assert.deepEqual(errorsOf({ nest: { fields: ['app.user'], under: 'app' } }), [
    { segments: [...at, 'nest', 'fields', 0], reason: '"app.user" is already under "app"' },
  ]);
  assert.deepEqual(errorsOf({ nest: { fields: ['a'], under: 'prototype' } })[0]?.segments, [...at, 'nest', 'under']);
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
});
