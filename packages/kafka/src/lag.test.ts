import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeLag, type LagSample } from './lag.js';

const sample = (at: number, members: number, partitions: Array<[string, number, number, number]>): LagSample => ({
  at,
  members,
  partitions: partitions.map(([topic, partition, high, committed]) => ({ topic, partition, high, committed })),
});

test('lag, rates, time to drain and the processors a target needs, per tenant', () => {
  const first = sample(0, 2, [
    ['logs.payments', 0, 10_000, 4_000],
    ['logs.payments', 1, 10_000, 6_000],
    ['logs.search', 0, 500, 500],
  ]);
  const second = sample(10_000, 2, [
    ['logs.payments', 0, 11_000, 6_000], // +100/s in, +200/s out
    ['logs.payments', 1, 11_000, 8_000],
    ['logs.search', 0, 600, 600],
  ]);
  const [payments, search] = summarizeLag(first, second, 60);
  assert.equal(payments?.tenant, 'payments');
  assert.equal(payments?.lag, 8_000);
  assert.equal(payments?.producedPerSecond, 200);
  assert.equal(payments?.consumedPerSecond, 400);
  assert.equal(payments?.drainSeconds, 40, '8000 records at a net 200/s');
  // The group consumes 410/s with 2 members: 205/s each. Draining 8000 within 60 s while 200/s
  // come in needs 333.3/s: 2 processors, and never more than the 2 partitions.
  assert.equal(payments?.processorsForTarget, 2);
  assert.deepEqual(payments?.partitions.map((p) => [p.partition, p.lag]), [[0, 5_000], [1, 3_000]]);
  assert.equal(search?.lag, 0);
  assert.equal(search?.drainSeconds, 0);
});

test('a lag that does not shrink never drains; no consumption, no estimate', () => {
  const [stuck] = summarizeLag(sample(0, 0, [['logs.payments', 0, 100, 0]]), sample(5_000, 0, [['logs.payments', 0, 200, 0]]), 60);
  assert.equal(stuck?.lag, 200);
  assert.equal(stuck?.drainSeconds, null);
  assert.equal(stuck?.processorsForTarget, null);
  assert.equal(stuck?.producedPerSecond, 20);
});
