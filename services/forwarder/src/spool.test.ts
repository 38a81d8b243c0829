import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, SpoolCorruptError, type SpoolRecord } from './spool.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const records = (from: number, count: number, size = 100): SpoolRecord[] =>
  Array.from({ length: count }, (_, i) => ({ key: `pod/${(from + i) % 3}`, value: Buffer.from(`${from + i}:`.padEnd(size, 'x')) }));
const numbers = (got: readonly SpoolRecord[]): number[] => got.map((r) => Number(r.value.toString().split(':')[0]));

/** Everything in a topic's spool, read and committed in pieces of `budget` bytes. */
async function drainAll(spool: Spool, topic: string, budget = 1000): Promise<SpoolRecord[]> {
  const out: SpoolRecord[] = [];
  for (;;) {
    const peeked = await spool.peek(topic, budget);
    if (peeked.records.length === 0) return out;
    out.push(...peeked.records);
    await spool.commit(topic, peeked.next);
  }
}

test('records come out in the order they went in, across segments, keys and values intact', async (t) => {
  const dir = scratch(t);
  const spool = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 1000 });
  await spool.open();
  for (let i = 0; i < 10; i++) await spool.append('logs.a', records(i * 7, 7));
  assert.ok(readdirSync(join(dir, 'logs.a')).filter((n) => n.endsWith('.seg')).length > 3, 'several segments');
  const out = await drainAll(spool, 'logs.a', 777);
  assert.deepEqual(numbers(out), Array.from({ length: 70 }, (_, i) => i));
  assert.equal(out[4]?.key, 'pod/1');
  assert.equal(spool.bytes, 0);
  assert.ok(spool.isEmpty('logs.a'));
  assert.equal(existsSync(join(dir, 'logs.a')), false, 'a drained topic leaves nothing on disk');
  await spool.close();
});

test('peek does not consume; only commit does, and a restart resumes at the committed head', async (t) => {
  const dir = scratch(t);
  const first = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 2000 });
  await first.open();
  await first.append('logs.a', records(0, 50));
  await first.append('logs.b', records(100, 5));
  const peeked = await first.peek('logs.a', 1500);
  const again = await first.peek('logs.a', 1500);
  assert.deepEqual(numbers(again.records), numbers(peeked.records));
  await first.commit('logs.a', peeked.next);
  const uncommitted = await first.peek('logs.a', 1000); // read, never committed: comes again after the restart
  assert.ok(uncommitted.records.length > 0);
  await first.close();

  const second = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 2000 });
  assert.deepEqual(await second.open(), []);
  assert.deepEqual(second.spooledTopics().sort(), ['logs.a', 'logs.b']);
  const rest = await drainAll(second, 'logs.a');
  assert.deepEqual(numbers(rest), Array.from({ length: 50 - peeked.records.length }, (_, i) => i + peeked.records.length));
  assert.deepEqual(numbers(await drainAll(second, 'logs.b')), [100, 101, 102, 103, 104]);
  await second.close();
});

test('a frame torn by a crash during an append is cut off at open, and what came before it is kept', async (t) => {
  const dir = scratch(t);
  const spool = new Spool({ dir, maxBytes: 1 << 20 });
  await spool.open();
  await spool.append('logs.a', records(0, 10));
  await spool.close();
  const segment = join(dir, 'logs.a', readdirSync(join(dir, 'logs.a')).find((n) => n.endsWith('.seg')) as string);
  appendFileSync(segment, Buffer.from([0, 0, 1, 0, 1, 2, 3])); // a frame header promising 256 bytes, then nothing
  const reopened = new Spool({ dir, maxBytes: 1 << 20 });
  const recoveries = await reopened.open();
  assert.equal(recoveries.length, 1);
  assert.match(recoveries[0]?.reason ?? '', /torn/);
  assert.deepEqual(numbers(await drainAll(reopened, 'logs.a')), Array.from({ length: 10 }, (_, i) => i));
  await reopened.close();
});

test('a frame that fails its checksum is reported with what came before it, and the rest of its segment is skipped, not looped on', async (t) => {
  const dir = scratch(t);
  const spool = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 1100 });
  await spool.open();
  await spool.append('logs.a', records(0, 10)); // segment 0: 10 frames
  await spool.append('logs.a', records(10, 5)); // segment 1
  const segment = join(dir, 'logs.a', '0000000000000000.seg');
  const bytes = readFileSync(segment);
  bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff; // damage the last frame of segment 0
  writeFileSync(segment, bytes);
  await assert.rejects(spool.peek('logs.a', 1 << 20), (err: unknown) => {
    assert.ok(err instanceof SpoolCorruptError);
    assert.equal(err.peeked.records.length, 9);
    assert.ok(err.skippedBytes > 0);
    return true;
  });
  const err = await spool.peek('logs.a', 1 << 20).catch((e: SpoolCorruptError) => e);
  await spool.commit('logs.a', (err as SpoolCorruptError).peeked.next);
  assert.deepEqual(numbers(await drainAll(spool, 'logs.a')), [10, 11, 12, 13, 14]);
  assert.equal(spool.bytes, 0);
  await spool.close();
});

test('room: bounded overall and per topic; an empty topic always gets one append', async (t) => {
  const dir = scratch(t);
  const spool = new Spool({ dir, maxBytes: 5000, maxBytesPerTopic: 3000 });
  await spool.open();
  assert.ok(spool.hasRoom('logs.a', 100_000), 'empty: one append of any size');
  await spool.append('logs.a', records(0, 25)); // ≈ 3 000 bytes with framing
  assert.equal(spool.hasRoom('logs.a', 100), false, 'the topic is at its share');
  assert.ok(spool.hasRoom('logs.b', 100), 'another tenant still has room');
  await spool.append('logs.b', records(0, 20));
  assert.equal(spool.hasRoom('logs.b', 100), false, 'the whole spool is at its limit');
  const peeked = await spool.peek('logs.a', 2000);
  await spool.commit('logs.a', peeked.next);
  assert.ok(spool.hasRoom('logs.a', 100), 'committing frees room');
  assert.equal(spool.bytes, spool.bytesOf('logs.a') + spool.bytesOf('logs.b'));
  await spool.close();
});

test('a record longer than the read budget still comes out, whole', async (t) => {
  const dir = scratch(t);
  const spool = new Spool({ dir, maxBytes: 1 << 22 });
  await spool.open();
  await spool.append('logs.a', [{ key: 'k', value: Buffer.alloc(200_000, 'z') }, ...records(1, 2)]);
  const peeked = await spool.peek('logs.a', 1000);
  assert.equal(peeked.records.length, 1);
  assert.equal(peeked.records[0]?.value.length, 200_000);
  assert.ok(peeked.oldestAt !== undefined && Date.now() - peeked.oldestAt < 10_000);
  await spool.commit('logs.a', peeked.next);
  assert.deepEqual(numbers(await drainAll(spool, 'logs.a')), [1, 2]);
  await spool.close();
});

test('appends and commits racing on one topic keep order and count bytes right', async (t) => {
  const dir = scratch(t);
  const spool = new Spool({ dir, maxBytes: 1 << 24, segmentBytes: 4096 });
  await spool.open();
  const out: SpoolRecord[] = [];
  const writer = (async () => {
    for (let i = 0; i < 40; i++) await spool.append('logs.a', records(i * 10, 10));
  })();
  let writing = true;
  void writer.then(() => (writing = false));
  while (writing || !spool.isEmpty('logs.a')) {
    const peeked = await spool.peek('logs.a', 3000);
    out.push(...peeked.records);
    if (peeked.records.length > 0) await spool.commit('logs.a', peeked.next);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  await writer;
  assert.deepEqual(numbers(out), Array.from({ length: 400 }, (_, i) => i));
  assert.equal(spool.bytes, 0);
  await spool.close();
});
