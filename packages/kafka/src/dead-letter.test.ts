import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEAD_LETTER_HEADERS, deadLetterMessage, readDeadLetter } from './dead-letter.js';

const cause = {
  class: 'parse' as const,
  message: 'field "message" is not valid JSON',
  pipeline: 'checkout-api',
  version: 3,
  rule: 0,
  topic: 'logs.payments',
  partition: 2,
  offset: '41',
  firstFailure: '2026-11-25T10:00:00.000Z',
};

test('a dead letter keeps key and value byte for byte and says why in headers', () => {
  const value = Buffer.from([0x7b, 0xff, 0xfe, 0x00]);
  const message = deadLetterMessage({ key: Buffer.from('pod/api'), value, headers: { traceparent: '00-abc' } }, cause);
  assert.equal(message.value, value);
  assert.deepEqual(message.key, Buffer.from('pod/api'));
  assert.equal(message.headers?.['traceparent'], '00-abc', "the producer's own headers stay");
  assert.equal(message.headers?.[DEAD_LETTER_HEADERS.class], 'parse');
  assert.equal(message.headers?.[DEAD_LETTER_HEADERS.version], '3');
  assert.deepEqual(readDeadLetter(message.headers as never), cause);
});

test('a replayed record that fails again keeps its first failure time and gets the new reason', () => {
  const first = deadLetterMessage({ key: null, value: Buffer.from('x') }, cause);
  const again = deadLetterMessage(
    { key: null, value: Buffer.from('x'), headers: first.headers as never },
    { ...cause, class: 'mapping', message: 'mapper_parsing_exception', firstFailure: '2026-11-26T00:00:00.000Z' },
  );
  const read = readDeadLetter(again.headers as never);
  assert.equal(read?.class, 'mapping');
  assert.equal(read?.firstFailure, '2026-11-25T10:00:00.000Z');
});

test('huge error messages are cut; records without headers are not dead letters', () => {
  const message = deadLetterMessage({ key: null, value: null }, { ...cause, message: 'x'.repeat(100_000), pipeline: undefined, version: undefined, rule: undefined });
  assert.equal(String(message.headers?.[DEAD_LETTER_HEADERS.message]).length, 4097);
  assert.equal(message.headers?.[DEAD_LETTER_HEADERS.pipeline], undefined);
  assert.equal(readDeadLetter({}), undefined);
  assert.equal(readDeadLetter(undefined), undefined);
});
