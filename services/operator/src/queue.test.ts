import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReconcileQueue } from './queue.js';

test('a key added many times is reconciled once; one added while running, once more after', async () => {
  const calls: string[] = [];
  let release: () => void = () => undefined;
  const queue = new ReconcileQueue({
    reconcile: async (key) => {
      calls.push(key);
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
    },
  });
  queue.add('a');
  queue.add('a'); // running: marks it for another pass
  queue.add('a');
  queue.add('b');
  await sleep(10);
  assert.deepEqual(calls, ['a', 'b'], 'b went on while a ran; a not twice at once');
  release();
  await queue.idle();
  assert.deepEqual(calls, ['a', 'b', 'a']);
  assert.equal(queue.depth, 0);
});

test('a key that throws comes back after a backoff; a number asks for another pass after that delay', async () => {
  let attempts = 0;
  const errors: number[] = [];
  const queue = new ReconcileQueue({
    reconcile: async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('kafka down');
      if (attempts === 2) return 20;
    },
    onError: (_key, _err, attempt, delayMs) => errors.push(attempt, delayMs),
  });
  queue.add('k');
  await queue.idle();
  assert.equal(attempts, 1);
  assert.equal(errors[0], 1);
  assert.ok((errors[1] ?? 0) >= 800 && (errors[1] ?? 0) <= 1000, 'about a second first');
  assert.equal(queue.depth, 1, 'waiting for its retry');
  queue.add('k'); // an event makes it due now
  await queue.idle();
  assert.equal(attempts, 2);
  await sleep(60);
  await queue.idle();
  assert.equal(attempts, 3, 'the asked-for pass');
  await queue.stop();
  queue.add('k');
  await sleep(10);
  assert.equal(attempts, 3, 'stopped: takes nothing');
});

test('at most `concurrency` keys at once', async () => {
  let running = 0;
  let peak = 0;
  const queue = new ReconcileQueue({
    concurrency: 2,
    reconcile: async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(5);
      running -= 1;
    },
  });
  for (let i = 0; i < 10; i++) queue.add(`k${i}`);
  await queue.idle();
  assert.equal(peak, 2);
});
