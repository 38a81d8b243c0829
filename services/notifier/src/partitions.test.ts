import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionPositions } from './partitions.js';

const T = 'dlq.payments';

test('a partition read to its end is complete up to the last fetch; one behind, up to its latest record; the topic up to its earliest partition', () => {
  const p = new PartitionPositions();
  p.assign(T, [{ partition: 0, next: 10n, high: 10n }, { partition: 1, next: 0n, high: 3n }]);
  assert.equal(p.watermark(T, 5000, 100), Number.NEGATIVE_INFINITY, 'partition 1 is behind and nothing of it is read yet');
  assert.ok(p.read(T, 1, 0n, 1000));
  assert.equal(p.watermark(T, 5000, 100), 900);
  assert.ok(p.read(T, 1, 1n, 2000));
  assert.ok(p.read(T, 1, 2n, 3000));
  assert.equal(p.watermark(T, 5000, 100), 4900, 'both read to their ends');
  p.seenEnd(T, 0, 12n);
  assert.equal(p.watermark(T, 6000, 100), Number.NEGATIVE_INFINITY, 'partition 0 has more, and none of it was read since it was assigned');
  assert.equal(p.watermark('dlq.other', 6000, 100), Number.NEGATIVE_INFINITY);
  assert.deepEqual(p.lag(T), [{ partition: 0, lag: 2n }, { partition: 1, lag: 0n }]);
});

test('commits stop at the first dead letter still held, and only move forward', () => {
  const p = new PartitionPositions();
  p.assign(T, [{ partition: 0, next: 100n, high: 100n }]);
  assert.equal(p.toCommit(T, 0, undefined), undefined, 'nothing new');
  for (let o = 100n; o < 110n; o++) p.read(T, 0, o, 1);
  assert.equal(p.toCommit(T, 0, 104n), 104n, 'a window from 104 is not settled');
  p.committed(T, 0, 104n);
  assert.equal(p.toCommit(T, 0, 104n), undefined);
  assert.equal(p.toCommit(T, 0, undefined), 110n, 'settled: up to what is read');
  assert.equal(p.toCommit(T, 0, 50n), undefined, 'never back');
});

test('a rebalance that leaves a partition here keeps its position: records fetched again are not taken twice', () => {
  const p = new PartitionPositions();
  p.assign(T, [{ partition: 0, next: 0n, high: 5n }]);
  for (let o = 0n; o < 5n; o++) assert.ok(p.read(T, 0, o, 1));
  p.assign(T, [{ partition: 0, next: 0n, high: 7n }, { partition: 1, next: 3n, high: 3n }]);
  assert.equal(p.read(T, 0, 2n, 1), false, 'fetched again from the last commit');
  assert.equal(p.read(T, 0, 5n, 1), true);
  assert.equal(p.read(T, 1, 2n, 1), false, 'before where the new partition starts');
  assert.deepEqual(p.partitions(T), [0, 1]);
  p.revoke(T);
  assert.deepEqual(p.held(), []);
  assert.equal(p.read(T, 0, 6n, 1), false, 'not held');
});
