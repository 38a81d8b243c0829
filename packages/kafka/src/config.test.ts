import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidBrokersError, parseBrokers } from './config.js';

test('parses a comma-separated broker list', () => {
  assert.deepEqual(parseBrokers('a:9092, b:9093,'), ['a:9092', 'b:9093']);
  assert.deepEqual(parseBrokers('[::1]:9092'), ['[::1]:9092']);
});

test('refuses lists without host:port, naming the bad entry', () => {
  for (const [input, reason] of [
    ['', /no broker given/],
    ['kafka', /"kafka" is not host:port/],
    ['a:9092,b:port', /"b:port" is not host:port/],
    ['a:70000', /"a:70000" is not host:port/],
  ] as const) {
    assert.throws(() => parseBrokers(input), (err: unknown) => err instanceof InvalidBrokersError && reason.test(err.message), input);
  }
});
