import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, InvalidLogLevelError } from './index.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

test('writes JSON lines with name, level label and ISO time', () => {
  const out = capture();
  const logger = createLogger({ name: 'processor', level: 'debug', destination: out.stream });
  logger.child({ component: 'runner', tenant: 'payments' }).debug({ records: 3 }, 'batch written');
  const [line] = out.lines();
  assert.equal(line?.['name'], 'processor');
  assert.equal(line?.['level'], 'debug');
  assert.equal(line?.['tenant'], 'payments');
  assert.equal(line?.['msg'], 'batch written');
  assert.match(String(line?.['time']), /^\d{4}-\d{2}-\d{2}T/);
});

test('honours the level and defaults to info', () => {
  const out = capture();
  const logger = createLogger({ name: 'x', level: undefined, destination: out.stream });
  logger.debug('hidden');
  logger.info('shown');
  assert.deepEqual(out.lines().map((l) => l['msg']), ['shown']);
});

test('refuses an unknown level with a coded error', () => {
  assert.throws(() => createLogger({ name: 'x', level: 'loud' }), InvalidLogLevelError);
});
