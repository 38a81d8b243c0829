import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLevel } from './level.js';
import { AT, env, errorsOf, run, step } from './testing.js';

const level = step(compileLevel({ field: 'level' }, AT, env));
const levelOf = (value: unknown) => run(level, { level: value }).record;

test('built-in spellings, any case, normalise to ECS log.level and remove the source', () => {
  const cases: Record<string, string> = {
    WARNING: 'warn', w: 'warn', Err: 'error', E: 'error', information: 'info', I: 'info', informational: 'info', INF: 'info',
    d: 'debug', DBG: 'debug', t: 'trace', trc: 'trace', crit: 'critical', Critical: 'critical', panic: 'fatal',
    emerg: 'fatal', EMERGENCY: 'fatal', f: 'fatal', alert: 'fatal', notice: 'notice', ' info ': 'info', FTL: 'fatal',
  };
  for (const [spelling, expected] of Object.entries(cases)) {
    const { outcome, record } = run(level, { level: spelling, other: 1 });
    assert.equal(outcome, undefined);
    assert.deepEqual(record, { other: 1, log: { level: expected } }, spelling);
  }
});

test("pino's numbers, as numbers or strings", () => {
  const expected = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  for (const [n, name] of Object.entries(expected)) {
    assert.deepEqual(levelOf(Number(n)), { log: { level: name } });
    assert.deepEqual(levelOf(n), { log: { level: name } });
  }
  // Not on the scale: passed through rather than guessed.
  assert.deepEqual(levelOf(35), { log: { level: '35' } });
});

test('an unknown spelling is written lowercased, not failed', () => {
  assert.deepEqual(levelOf('VERBOSE'), { log: { level: 'verbose' } });
  assert.deepEqual(levelOf('Stufe-Ü'), { log: { level: 'stufe-ü' } });
  assert.deepEqual(levelOf('c'), { log: { level: 'c' } });
});

test('a missing, null or empty level is a no-op', () => {
  for (const record of [{}, { level: null }, { level: '' }, { level: '  ' }]) {
    const { outcome, record: after } = run(level, record);
    assert.equal(outcome, undefined);
    assert.deepEqual(after, record);
  }
});

test('a level that is neither a string nor a number is a parse failure', () => {
  assert.deepEqual(run(level, { level: { a: 1 } }).outcome, { class: 'parse', message: 'field "level" is an object, not a level name or number' });
  assert.deepEqual(run(level, { level: true }).outcome, { class: 'parse', message: 'field "level" is a boolean, not a level name or number' });
});

test('log.level as the source is normalised in place; a nested source is removed', () => {
  const inPlace = step(compileLevel({ field: 'log.level' }, AT, env));
  assert.deepEqual(run(inPlace, { log: { level: 'WARNING', logger: 'x' } }).record, { log: { level: 'warn', logger: 'x' } });
  const nested = step(compileLevel({ field: 'meta.severity' }, AT, env));
  assert.deepEqual(run(nested, { meta: { severity: 'E', id: 1 } }).record, { meta: { id: 1 }, log: { level: 'error' } });
});

test('aliases add spellings case-insensitively and may override built-ins', () => {
  const s = step(compileLevel({ field: 'sev', aliases: { warn: ['ATTN', 'Caution'], error: ['BAD'], fatal: ['e'] } }, AT, env));
  assert.deepEqual(run(s, { sev: 'attn' }).record, { log: { level: 'warn' } });
  assert.deepEqual(run(s, { sev: 'CAUTION' }).record, { log: { level: 'warn' } });
  assert.deepEqual(run(s, { sev: 'bad' }).record, { log: { level: 'error' } });
  assert.deepEqual(run(s, { sev: 'E' }).record, { log: { level: 'fatal' } });
  assert.deepEqual(run(s, { sev: 'err' }).record, { log: { level: 'error' } });
});

test('compile errors: conflicting, canonical-name and empty aliases, bad field', () => {
  const errors = errorsOf(compileLevel({ field: '__proto__', aliases: { warn: ['x', 'error', ''], error: ['X'] } }, AT, env));
  assert.deepEqual(errors, [
    { segments: ['spec', 'parse', 2, 'level', 'field'], reason: 'segment "__proto__" is not allowed: it would reach the prototype of every object' },
    { segments: ['spec', 'parse', 2, 'level', 'aliases', 'warn', 1], reason: '"error" is the name of level error' },
    { segments: ['spec', 'parse', 2, 'level', 'aliases', 'warn', 2], reason: 'an alias cannot be empty' },
    { segments: ['spec', 'parse', 2, 'level', 'aliases', 'error', 0], reason: '"X" is already an alias of level warn' },
  ]);
});
