import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../spec/condition.js';
import { compileCondition, type Predicate } from './condition.js';
import { compilerUnderTest } from './testing.js';
import type { CompileError } from './types.js';

const at = ['spec', 'filter', 1, 'drop'];
const { compiles: predicate, errorsOf } = compilerUnderTest(compileCondition, at);

const holds = (condition: unknown, record: Record<string, unknown>) => predicate(condition)(record);

test('equals: strict, with numbers meeting numeric strings and booleans meeting "true"/"false"', () => {
  assert.equal(holds({ field: 'app', equals: 'web' }, { app: 'web' }), true);
  assert.equal(holds({ field: 'app', equals: 'web' }, { app: 'Web' }), false);
  assert.equal(holds({ field: 'http.status', equals: 500 }, { http: { status: '500' } }), true);
  assert.equal(holds({ field: 'http.status', equals: '500' }, { http: { status: 500 } }), true);
  assert.equal(holds({ field: 'http.status', equals: 500 }, { http: { status: '500x' } }), false);
  assert.equal(holds({ field: 'http.status', equals: 500 }, { http: { status: ' 500' } }), false);
  assert.equal(holds({ field: 'ok', equals: true }, { ok: 'true' }), true);
  assert.equal(holds({ field: 'ok', equals: 'false' }, { ok: false }), true);
  assert.equal(holds({ field: 'ok', equals: true }, { ok: 1 }), false);
  assert.equal(holds({ field: 'user', equals: null }, { user: null }), true);
  assert.equal(holds({ field: 'user', equals: null }, {}), false);
  assert.equal(holds({ field: 'a', equals: 'x' }, { a: { x: 1 } }), false);
});

test('in: any value equals, with the same coercions', () => {
  const p = predicate({ field: 'level', in: ['debug', 'trace', 404, 'true'] });
  assert.equal(p({ level: 'trace' }), true);
  assert.equal(p({ level: '404' }), true);
  assert.equal(p({ level: 404 }), true);
  assert.equal(p({ level: true }), true);
  assert.equal(p({ level: 'info' }), false);
  assert.equal(p({}), false);
  const strings = predicate({ field: 's', in: ['500'] });
  assert.equal(strings({ s: 500 }), true);
  assert.equal(strings({ s: '500.0' }), false, 'two strings compare as strings, as with equals');
});

test('exists: present and not null', () => {
  assert.equal(holds({ field: 'user.id', exists: true }, { user: { id: 0 } }), true);
  assert.equal(holds({ field: 'user.id', exists: true }, { user: { id: null } }), false);
  assert.equal(holds({ field: 'user.id', exists: true }, { user: 'x' }), false);
  assert.equal(holds({ field: 'user.id', exists: false }, {}), true);
  assert.equal(holds({ field: 'user.id', exists: false }, { user: { id: '' } }), false);
});

test('matches: RE2 on strings, numbers and booleans stringified, objects and absent fields false', () => {
  const p = predicate({ field: 'path', matches: '^/api/v[0-9]+/' });
  assert.equal(p({ path: '/api/v2/orders' }), true);
  assert.equal(p({ path: '/web' }), false);
  assert.equal(p({ path: { a: '/api/v2/' } }), false);
  assert.equal(p({}), false);
  assert.equal(holds({ field: 'code', matches: '^5' }, { code: 503 }), true);
  assert.equal(holds({ field: 'flag', matches: '^tr' }, { flag: true }), true);
  // A catastrophic pattern for a backtracking engine is linear on RE2.
  assert.equal(holds({ field: 'm', matches: '^(a+)+$' }, { m: `${'a'.repeat(100_000)}!` }), false);
});

test('gt, gte, lt, lte: numbers and numeric strings only', () => {
  assert.equal(holds({ field: 'http.status', gte: 500 }, { http: { status: 503 } }), true);
  assert.equal(holds({ field: 'http.status', gte: 500 }, { http: { status: '500' } }), true);
  assert.equal(holds({ field: 'http.status', gte: 500 }, { http: { status: 499 } }), false);
  assert.equal(holds({ field: 'ms', gt: 1.5 }, { ms: '1.6e0' }), true);
  assert.equal(holds({ field: 'ms', lt: 10 }, { ms: 'fast' }), false);
  assert.equal(holds({ field: 'ms', lt: 10 }, { ms: '' }), false, 'an empty string is not 0');
  assert.equal(holds({ field: 'ms', lte: 10 }, { ms: true }), false);
  assert.equal(holds({ field: 'ms', lte: 10 }, {}), false);
  assert.equal(holds({ field: 'ms', gt: 0 }, { ms: `${'1'.repeat(1_000_000)}x` }), false);
});

test('atLeast: ECS level order on the lowercased value; unknown levels are false', () => {
  const p = predicate({ field: 'log.level', atLeast: 'warn' });
  for (const level of ['warn', 'WARN', 'Error', 'critical', 'fatal']) assert.equal(p({ log: { level } }), true, level);
  for (const level of ['trace', 'debug', 'info', 'notice', 'warning', 'bogus', '']) assert.equal(p({ log: { level } }), false, level);
  assert.equal(p({ log: { level: 4 } }), false);
  assert.equal(p({ log: { level: 'E'.repeat(1_000_000) } }), false);
});

test('and / or short-circuit, not negates', () => {
  const seen: string[] = [];
  const p = predicate({
    and: [{ field: 'app', equals: 'web' }, { not: { field: 'user', exists: true } }, { or: [{ field: 'a', equals: 1 }, { field: 'b', equals: 2 }] }],
  });
  assert.equal(p({ app: 'web', b: 2 }), true);
  assert.equal(p({ app: 'web', user: 'u', b: 2 }), false);
  assert.equal(p({ app: 'api', b: 2 }), false);
  // Short-circuit: a getter later in the record is never read once the answer is known.
  const record = { app: 'api' } as Record<string, unknown>;
  Object.defineProperty(record, 'user', { get: () => seen.push('user'), enumerable: true });
  p(record);
  assert.deepEqual(seen, []);
  const many = predicate({ or: [1, 2, 3, 4].map((n) => ({ field: 'n', equals: n })) });
  assert.equal(many({ n: 4 }), true);
  assert.equal(many({ n: 5 }), false);
});

test('shape errors are reported at the condition, all of them', () => {
  assert.deepEqual(errorsOf({ field: 'a', equals: 1, in: [1] }), [
    { segments: at, reason: 'use exactly one of equals, in, exists, matches, gt, gte, lt, lte, atLeast, and, or, not; got equals and in' },
  ]);
  assert.deepEqual(errorsOf({ field: 'a' }).map((e) => e.reason), [
    'use exactly one of equals, in, exists, matches, gt, gte, lt, lte, atLeast, and, or, not; got none',
  ]);
  assert.deepEqual(errorsOf({ equals: 1 }), [{ segments: at, reason: '"field" is required with equals' }]);
  assert.deepEqual(errorsOf({ field: 'a', and: [{ field: 'b', exists: true }] }), [{ segments: at, reason: '"field" has no meaning with and' }]);
  assert.deepEqual(
    errorsOf({ and: [{ field: 'a', exists: true }, { equals: 1 }, { field: 'm', matches: '(a)\\1' }, { field: 'l', atLeast: 'loud' }] }),
    [
      { segments: [...at, 'and', 1], reason: '"field" is required with equals' },
      {
        segments: [...at, 'and', 2, 'matches'],
        reason: errorsOf({ field: 'm', matches: '(a)\\1' })[0]?.reason,
      },
      { segments: [...at, 'and', 3, 'atLeast'], reason: 'must be one of trace, debug, info, notice, warn, error, critical, fatal' },
    ],
  );
  assert.match(errorsOf({ field: 'm', matches: '(a)\\1' })[0]?.reason ?? '', /backreferences are not supported/);
});

test('unsafe field paths are refused at the field', () => {
  for (const field of ['__proto__.x', 'a.constructor', 'prototype']) {
    const [error] = errorsOf({ not: { field, exists: true } });
    assert.deepEqual(error?.segments, [...at, 'not', 'field']);
    assert.match(error?.reason ?? '', /would reach the object prototype/);
  }
});

test('nesting: 32 levels compile, 33 do not, and 2 000 give an error rather than a stack overflow', () => {
  const nested = (depth: number): unknown => {
    let condition: unknown = { field: 'a', exists: true };
    for (let i = 1; i < depth; i++) condition = { not: condition };
    return condition;
  };
  assert.equal(predicate(nested(32))({ a: 1 }), false, '31 nots around a true condition');
  const [error] = errorsOf(nested(33));
  assert.equal(error?.reason, 'conditions nest deeper than 32 levels');
  assert.deepEqual(error?.segments, [...at, ...Array(32).fill('not')]);
  assert.equal(errorsOf(nested(2_000))[0]?.reason, 'conditions nest deeper than 32 levels');
  let deep: unknown = { field: 'a', exists: true };
  for (let i = 0; i < 200_000; i++) deep = i % 2 ? { not: deep } : { and: [{ field: 'b', exists: true }, deep] };
  assert.equal(errorsOf(deep)[0]?.reason, 'conditions nest deeper than 32 levels');
});

test('aliased (shared) sub-conditions that would expand hugely are bounded', () => {
  let shared: unknown = { field: 'a', exists: true };
  for (let i = 0; i < 20; i++) shared = { and: [shared, shared, shared] };
  assert.match(errorsOf(shared)[0]?.reason ?? '', /at most 10000 parts/);
});

test('predicates never throw on odd records', () => {
  const p = predicate({ or: [{ field: 'a.b', gt: 1 }, { field: 'a.b', matches: 'x' }, { field: 'a.b', atLeast: 'info' }, { field: 'a.b', in: [1, 'x'] }] });
  const odd: unknown[] = [null, [], [1, 2], { toString: 'x', valueOf: 'y' }, Object.create(null), 'x'.repeat(1_000_000)];
  for (const b of odd) assert.doesNotThrow(() => p({ a: { b } }));
  assert.equal(p({ a: 'string' }), false);
  assert.equal(p({ a: [{ b: 2 }] }), false);
  assert.equal(p({ ['__proto__']: { b: 5 } } as Record<string, unknown>), false, 'a literal __proto__ key is not an own field');
});
