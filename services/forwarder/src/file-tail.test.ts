import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEnvelope } from '@tributary/envelope';
import { ValueBlocks } from './envelope.js';
import { ReadBuffers } from './file-reader.js';
import { FileTail } from './file-tail.js';

const container = { namespace: 'payments', pod: 'api-0', podUid: '6f1c0001', container: 'api' };

async function messages(batch: { records: Array<{ value: Buffer }> }): Promise<string[]> {
  const out: string[] = [];
  for (const record of batch.records) {
    const decoded = await decodeEnvelope(record.value);
    assert.ok(decoded.ok);
    out.push(decoded.envelope.message);
  }
  return out;
}

test('a file is followed: split lines joined, the checkpoint held before an unfinished line, ids stable across a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tail-'));
  const path = join(dir, '0.log');
  writeFileSync(path, '2026-11-25T10:00:00Z stdout F one\n2026-11-25T10:00:01Z stdout P tw');
  const tail = new FileTail({ node: 'n', path, container });
  const first = await tail.poll();
  assert.deepEqual(await messages(first), ['one']);
  assert.equal(first.checkpoint, 34, 'the partial line (not even a whole physical line yet) is not passed');
  appendFileSync(path, 'o\n');
  const second = await tail.poll();
  assert.deepEqual(await messages(second), []);
  assert.equal(second.checkpoint, 34, 'a P chunk is read but its line is unfinished: the checkpoint waits at its start');
  appendFileSync(path, '2026-11-25T10:00:02Z stdout F !\n');
  const third = await tail.poll();
  assert.deepEqual(await messages(third), ['two!']);
  assert.equal(third.checkpoint, Buffer.byteLength('2026-11-25T10:00:00Z stdout F one\n2026-11-25T10:00:01Z stdout P two\n2026-11-25T10:00:02Z stdout F !\n'));
  await tail.close();

  // A restart from the checkpoint after `first` reads the split line again: same id.
  const again = new FileTail({ node: 'n', path, container, offset: first.checkpoint });
  const replay = await again.poll();
  assert.deepEqual(await messages(replay), ['two!']);
  assert.deepEqual(replay.records.map((r) => r.key.toString()), ['6f1c0001/api']);
  const ids = async (batch: { records: Array<{ value: Buffer }> }): Promise<string[]> => Promise.all(batch.records.map(async (r) => ((await decodeEnvelope(r.value)) as { envelope: { id: string } }).envelope.id));
  assert.deepEqual(await ids(replay), await ids(third));
  await again.close();
  rmSync(dir, { recursive: true });
});

test('a line that is not the format is shipped as its raw text, counted, not dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tail-'));
  const path = join(dir, '0.log');
  writeFileSync(path, '2026-11-25T10:00:00Z stdout F fine\nsomething else entirely\n');
  const tail = new FileTail({ node: 'n', path, container });
  const batch = await tail.poll();
  assert.deepEqual(await messages(batch), ['fine', 'something else entirely']);
  assert.equal(batch.unparsable, 1);
  await tail.close();
  rmSync(dir, { recursive: true });
});

test('docker json-file is detected and its 16 KiB pieces joined', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tail-'));
  const path = join(dir, '0.log');
  const long = 'y'.repeat(20_000);
  const entry = (log: string): string => `${JSON.stringify({ log, stream: 'stderr', time: '2026-11-25T10:00:00.5Z' })}\n`;
  writeFileSync(path, entry(long.slice(0, 16384)) + entry(`${long.slice(16384)}\n`));
  const tail = new FileTail({ node: 'n', path, container });
  assert.deepEqual(await messages(await tail.poll()), [long]);
  await tail.close();
  rmSync(dir, { recursive: true });
});

test('files sharing read buffers: a split line waiting for its end keeps its first part while other files are read into the same buffer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tail-'));
  const reads = new ReadBuffers();
  const values = new ValueBlocks();
  const paths = ['a.log', 'b.log'].map((name) => join(dir, name));
  writeFileSync(paths[0]!, '2026-11-25T10:00:00Z stdout P first half of a / \n');
  writeFileSync(paths[1]!, `{"log":"docker half of b / ","stream":"stderr","time":"2026-11-25T10:00:00Z"}\n`);
  const tails = paths.map((path) => new FileTail({ node: 'n', path, container, reads, values }));
  for (const tail of tails) assert.deepEqual(await messages(await tail.poll()), [], 'waiting for the rest');
  // Each poll lands in the same block, over what the other file's pending chunk was read from.
  appendFileSync(paths[0]!, `2026-11-25T10:00:01Z stdout F ${'overwrite '.repeat(20)}\n`);
  appendFileSync(paths[1]!, `{"log":"${'x'.repeat(200)}\\n","stream":"stdout","time":"2026-11-25T10:00:01Z"}\n`);
  assert.deepEqual(await messages(await tails[0]!.poll()), [`first half of a / ${'overwrite '.repeat(20)}`]);
  assert.deepEqual(await messages(await tails[1]!.poll()), ['x'.repeat(200)], 'stdout is whole; stderr still waits');
  appendFileSync(paths[1]!, `{"log":"second half of b\\n","stream":"stderr","time":"2026-11-25T10:00:02Z"}\n`);
  await tails[0]!.poll();
  assert.deepEqual(await messages(await tails[1]!.poll()), ['docker half of b / second half of b']);
  for (const tail of tails) await tail.close();
  rmSync(dir, { recursive: true });
});
