import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { runService, type Service } from './run.js';

const logger = pino({ level: 'silent' });

class Recorder implements Service {
  readonly calls: string[] = [];
  constructor(private readonly failStart = false) {}
  async start(): Promise<void> {
    this.calls.push('start');
    if (this.failStart) throw new Error('port in use');
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
}

test('runs until SIGTERM, then stops and exits 0', async () => {
  const signals = new EventEmitter();
  const service = new Recorder();
  let started = false;
  const exit = runService({ name: 'x', env: {}, logger, signals, create: () => service, started: () => void (started = true) });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(service.calls, ['start']);
  assert.equal(started, true);
  signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 0);
  assert.deepEqual(service.calls, ['start', 'stop']);
});

test('an invalid configuration exits 2 without starting anything', async () => {
  const exit = await runService({ name: 'x', env: {}, logger, signals: new EventEmitter(), create: () => { throw new Error('--port: not a number'); } });
  assert.equal(exit, 2);
});

test('a failed start stops what was started, exits 1 and leaves no signal handler', async () => {
  const signals = new EventEmitter();
  const service = new Recorder(true);
  assert.equal(await runService({ name: 'x', env: {}, logger, signals, create: () => service }), 1);
  assert.deepEqual(service.calls, ['start', 'stop']);
  assert.equal(signals.listenerCount('SIGTERM'), 0);
});
