import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransformStep } from '../../spec/steps.js';
import { compileTenantRegex } from '../regex.js';
import type { CompiledStep, CompileError, Fields } from '../types.js';
import { compileTransformStep } from './index.js';
import { compileTextRedaction, masker } from './redact.js';

const env = { regex: compileTenantRegex };
const at = ['spec', 'transform', 4];
function step(redact: unknown): CompiledStep {
  const result = compileTransformStep({ redact } as TransformStep, at, env);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  return result.value;
}
function errorsOf(redact: unknown): CompileError[] {
  const result = compileTransformStep({ redact } as TransformStep, at, env);
  assert.equal(result.ok, false);
  return result.ok ? [] : [...result.errors];
}
const run = (redact: unknown, record: Fields): Fields => {
  assert.equal(step(redact)(record), undefined);
  return record;
};

test('fields: each present value becomes the mask', () => {
  assert.deepEqual(run({ fields: ['password', 'user.ssn', 'absent'] }, { password: 'hunter2', user: { ssn: 123456789 } }), {
    password: '[REDACTED]',
    user: { ssn: '[REDACTED]' },
  });
  assert.deepEqual(run({ fields: ['card', 'pin'], keepLast: 4 }, { card: '4111 1111 1111 1111', pin: 1234 }), {
    card: '***************1111',
    pin: '[REDACTED]',
  });
  assert.deepEqual(run({ fields: ['token'], replacement: '<gone>' }, { token: { a: 1 } }), { token: '<gone>' });
});

test('patterns: card, email, ipv4 in the message by default', () => {
  const record = run(
    { patterns: ['card', 'email', 'ipv4'] },
    { message: 'user ann.lee+shop@mail.example.com from 10.0.12.7 paid with 4111 1111 1111 1111 (order 4111111111111112)', ip: '10.0.0.1' },
  );
  assert.deepEqual(record, { message: 'user [REDACTED] from [REDACTED] paid with [REDACTED] (order 4111111111111112)', ip: '10.0.0.1' });
  assert.deepEqual(run({ patterns: ['ipv4'] }, { message: 'version 1.2.3 at 999.1.1.1 and 256.0.0.1' }), {
    message: 'version 1.2.3 at 999.1.1.1 and 256.0.0.1',
  });
});

test('patterns with keepLast, custom regexes, and chosen fields', () => {
  const record = run(
    { patterns: ['card', { regex: 'sk_live_[A-Za-z0-9]+' }], in: ['message', 'http.body', 'n'], keepLast: 4 },
    { message: 'card 4111 1111 1111 1111', http: { body: 'key=sk_live_abcdef123456' }, n: 4111111111111111 },
  );
  assert.deepEqual(record, { message: 'card ***************1111', http: { body: 'key=****************3456' }, n: 4111111111111111 });
  assert.deepEqual(run({ patterns: [{ regex: 'x*' }] }, { message: 'abc' }), { message: 'abc' }, 'empty matches mask nothing');
});

test('masks keep whole code points and never reveal a short value whole', () => {
  const keep2 = masker('[R]', 2);
  assert.equal(keep2('abcdef'), '****ef');
  assert.equal(keep2('ab'), '**');
  assert.equal(keep2('a😀b😀'), '**b😀');
  assert.equal(masker('[R]', 0)('abc'), '***');
  assert.equal(masker('[R]', undefined)('abc'), '[R]');
});

test('1 MB messages are redacted in linear time', () => {
  const message = `${'lorem ipsum 12 34.56 '.repeat(50_000)}mail bob@example.org ${'a'.repeat(1_000_000)}@`;
  const started = performance.now();
  const record = run({ patterns: ['card', 'email', 'ipv4', { regex: '(a+)+$' }] }, { message });
  assert.ok(performance.now() - started < 3000);
  assert.ok((record.message as string).includes('mail [REDACTED] '));
});

test('redact compile errors', () => {
  assert.deepEqual(errorsOf({ replacement: 'x' }), [{ segments: [...at, 'redact'], reason: 'give "fields", "patterns" or both' }]);
  assert.deepEqual(errorsOf({ fields: ['a'], in: ['message'] }), [{ segments: [...at, 'redact', 'in'], reason: 'has no meaning without "patterns"' }]);
  const errors = errorsOf({ fields: ['ok', '__proto__.x'], patterns: ['email', { regex: '(?<=a)b' }, { regex: '(' }], in: ['prototype'] });
  assert.deepEqual(errors.map((e) => e.segments), [
    [...at, 'redact', 'fields', 1],
    [...at, 'redact', 'patterns', 1, 'regex'],
    [...at, 'redact', 'patterns', 2, 'regex'],
    [...at, 'redact', 'in', 0],
  ]);
  assert.match(errors[1]?.reason ?? '', /lookahead and lookbehind are not supported/);
});

test('text outside fields (a dead letter’s sample): patterns over all of it, named fields where it writes them as JSON members or key=value', () => {
  const redactText = compileTextRedaction(
    [{ set: { field: 'x', value: 'y' } } as never, { redact: { fields: ['password', 'user.api_key'], patterns: ['card', { regex: 'sk_live_[A-Za-z0-9]+' }], keepLast: 4 } }, { redact: { fields: ['token'] } }],
    env,
  );
  // A broken JSON line, as the envelope carries it (its quotes escaped inside the message string).
  const envelope = JSON.stringify({ message: '{"user":{"api_key":"AKIA1234567890","name":"zoë"},"password": "hunter22","card":"4111 1111 1111 1111","note":"sk_live_abcdef123456","trunc' });
  const out = redactText(envelope);
  assert.doesNotMatch(out, /AKIA1234567890|hunter22|4111 1111 1111 1111|sk_live_abcdef123456/);
  assert.match(out, /\\"api_key\\":\\"\*+7890\\"/, 'escaped member masked, its last 4 kept as the step says');
  assert.match(out, /\\"password\\": \\"\*+er22\\"/);
  assert.match(out, /\\"name\\":\\"zoë\\"/, 'other members untouched');
  assert.equal(JSON.parse(out).message.startsWith('{"user":{"api_key":"'), true, 'still the same JSON around the masks');
  // Plain JSON, logfmt, and a step with the default mask.
  assert.equal(redactText('{"password":"s3cret!","ok":1}'), '{"password":"***ret!","ok":1}');
  assert.equal(redactText('level=error password=hunter2 token="abc def" msg=boom'), 'level=error password=***ter2 token=[REDACTED] msg=boom');
  assert.equal(redactText('nothing to hide'), 'nothing to hide');
  assert.equal(compileTextRedaction(undefined, env)('as it is'), 'as it is');
});
