import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilterStep } from '../spec/steps.js';
import { compileFilterStep, fnv1a } from './filter.js';
import { compilerUnderTest } from './testing.js';
import type { CompiledStep, CompileError } from './types.js';

const at = ['spec', 'filter', 1];
const { compiles: step, errorsOf } = compilerUnderTest(compileFilterStep, at);


test('drop drops the records the condition holds for; keep drops the others', () => {
  const drop = step({ drop: { field: 'level', in: ['debug', 'trace'] } });
  assert.equal(drop({ level: 'debug', message: 'cache miss' }), 'drop');
  assert.equal(drop({ level: 'info', message: 'order placed' }), undefined);
  const keep = step({ keep: { field: 'http.status', gte: 500 } });
  assert.equal(keep({ http: { status: 503 } }), undefined);
  assert.equal(keep({ http: { status: '200' } }), 'drop');
  assert.equal(keep({}), 'drop');
});

test('condition errors carry the path through drop/keep', () => {
  assert.deepEqual(errorsOf({ drop: { and: [{ field: 'a', exists: true }, { field: 'm', equals: 1, matches: 'x' }] } }), [
    {
      segments: [...at, 'drop', 'and', 1],
      reason: 'use exactly one of equals, in, exists, matches, gt, gte, lt, lte, atLeast, and, or, not; got equals and matches',
    },
  ]);
  assert.deepEqual(errorsOf({ keep: { field: 'm', matches: '(?=x)' } })[0]?.segments, [...at, 'keep', 'matches']);
  assert.deepEqual(errorsOf({ drop: { field: 'a', exists: true }, keep: { field: 'a', exists: true } }), [
    { segments: at, reason: 'use exactly one of drop, keep, sample; got drop and keep' },
  ]);
});

test('FNV-1a 32-bit matches the reference values, over UTF-8', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(fnv1a('foobar'), 0xbf9cf968);
  const bytes = (text: string) => {
    let h = 0x811c9dc5;
    for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193);
    return h >>> 0;
  };
  for (const text of ['héllo', '日本語', 'emoji 😀 here', 'lone \ud800 surrogate', '\udc00x']) assert.equal(fnv1a(text), bytes(text), text);
});

test('sample by key: deterministic per key value, so a trace is kept or dropped whole', () => {
  const sample = step({ sample: { rate: 0.5, key: 'trace.id' } });
  const again = step({ sample: { rate: 0.5, key: 'trace.id' } });
  let kept = 0;
  let seed = 42;
  // Trace ids are random hex; a fixed-seed generator keeps the test repeatable.
  const hex = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8).toString(16).padStart(6, '0');
  for (let i = 0; i < 2000; i++) {
    const id = `${hex()}${hex()}${hex()}${hex()}${hex()}`;
    const first = sample({ trace: { id }, message: 'a' });
    assert.equal(sample({ trace: { id }, message: 'b' }), first, 'same trace, same fate');
    assert.equal(again({ trace: { id } }), first, 'same fate in another compiled pipeline');
    if (first === undefined) kept++;
  }
  assert.ok(kept > 850 && kept < 1150, `kept ${kept} of 2000 at rate 0.5`);
  // A missing key hashes as "": fnv1a("") / 2^32 ≈ 0.5044.
  assert.equal(step({ sample: { rate: 0.51, key: 'trace.id' } })({}), undefined);
  assert.equal(step({ sample: { rate: 0.5, key: 'trace.id' } })({ trace: { id: null } }), 'drop');
  assert.equal(step({ sample: { rate: 1, key: 'k' } })({ k: 'anything' }), undefined);
  // An object key value is hashed as JSON, and an own `toString` that is not a function can't make it throw.
  assert.doesNotThrow(() => sample({ trace: { id: { toString: 'x', valueOf: 1 } } }));
  assert.doesNotThrow(() => sample({ trace: { id: 'x'.repeat(1_000_000) } }));
});

test('sample without key keeps exactly the rate by counting', () => {
  const quarter = step({ sample: { rate: 0.25 } });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(() => quarter({})), ['drop', 'drop', 'drop', undefined, 'drop', 'drop', 'drop', undefined]);
  const tenth = step({ sample: { rate: 0.1 } });
  const outcomes = Array.from({ length: 100 }, () => tenth({}));
  assert.equal(outcomes.filter((o) => o === undefined).length, 10);
  assert.equal(outcomes[9], undefined, 'the 10th record, despite 0.1 × 10 < 1 in floating point');
  const all = step({ sample: { rate: 1 } });
  assert.deepEqual([all({}), all({})], [undefined, undefined]);
  const third = step({ sample: { rate: 1 / 3 } });
  assert.equal(Array.from({ length: 3000 }, () => third({})).filter((o) => o === undefined).length, 1000);
});

test('sample errors', () => {
  assert.deepEqual(errorsOf({ sample: { rate: 0 } }), [{ segments: [...at, 'sample', 'rate'], reason: 'must be a number above 0 and at most 1' }]);
  assert.deepEqual(errorsOf({ sample: { rate: 2, key: '__proto__' } }).map((e) => e.segments), [
    [...at, 'sample', 'rate'],
    [...at, 'sample', 'key'],
  ]);
});
