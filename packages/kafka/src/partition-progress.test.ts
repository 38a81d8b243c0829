import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionProgress } from './partition-progress.js';

test('commits only past an unbroken run of acknowledged records', () => {
  const progress = new PartitionProgress('10');
  for (const offset of [10, 11, 12, 13]) progress.begin(String(offset));
  assert.equal(progress.committable(), undefined);
  progress.complete('12');
  progress.complete('13');
  assert.equal(progress.committable(), undefined, 'a gap at 10 and 11 holds the commit back');
  progress.complete('10');
  assert.equal(progress.committable(), '11');
  progress.markCommitted('11');
  assert.equal(progress.committable(), undefined);
  progress.complete('11');
  assert.equal(progress.committable(), '14', 'one past the last acknowledged record');
  assert.equal(progress.pending, 0);
});

test('offsets skipped by compaction are passed once nothing before them is pending', () => {
  const progress = new PartitionProgress(0);
  progress.begin(0);
  progress.begin(5);
  progress.passed(9);
  progress.complete(5);
  assert.equal(progress.committable(), undefined);
  progress.complete(0);
  assert.equal(progress.committable(), '6');
  progress.passed(9);
  assert.equal(progress.committable(), '10');
});

test('out-of-order begins are a bug, refused loudly', () => {
  const progress = new PartitionProgress(5);
  assert.throws(() => progress.begin(4), /out of order/);
  progress.begin(6);
  assert.throws(() => progress.begin(6), /out of order/);
});

test('a hundred thousand records complete in random order: the commit never passes an unfinished one', () => {
  const progress = new PartitionProgress(0);
  const total = 100_000;
  for (let i = 0; i < total; i++) progress.begin(i);
  const order = Array.from({ length: total }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const finished = new Set<number>();
  for (const offset of order) {
    progress.complete(offset);
    finished.add(offset);
    const commit = Number(progress.committable() ?? 0);
    for (let k = 0; k < Math.min(commit, 50); k++) assert.ok(finished.has(k));
    if (commit > 0) assert.ok(finished.has(commit - 1));
  }
  assert.equal(progress.committable(), String(total));
});
