import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReader } from './file-reader.js';

const text = (lines: Array<{ bytes: Buffer }>): string[] => lines.map((l) => l.bytes.toString());

test('complete lines come with their offsets; an unfinished last line waits for its newline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reader-'));
  const path = join(dir, '0.log');
  writeFileSync(path, 'first\nsecond\nthi');
  const reader = new FileReader(path, 0, 4); // tiny reads: lines span reads
  const one = await reader.read(1024);
  assert.deepEqual(text(one.lines), ['first', 'second']);
  assert.deepEqual(one.lines.map((l) => l.offset), [0, 6]);
  assert.equal(one.atEnd, true);
  assert.equal(reader.offset, 13, 'the position stops before the unfinished line');
  appendFileSync(path, 'rd\n');
  const two = await reader.read();
  assert.deepEqual(text(two.lines), ['third']);
  assert.equal(two.lines[0]?.offset, 13);
  assert.equal(reader.offset, 19);
  await reader.close();
  rmSync(dir, { recursive: true });
});

test('reading resumes from a saved offset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reader-'));
  const path = join(dir, '0.log');
  writeFileSync(path, 'a\nb\nc\n');
  const reader = new FileReader(path, 2);
  assert.deepEqual(text((await reader.read()).lines), ['b', 'c']);
  await reader.close();
  rmSync(dir, { recursive: true });
});

test('a file renamed away is read to its end through the open handle; the path then names another file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reader-'));
  const path = join(dir, '0.log');
  writeFileSync(path, 'before rotation\n');
  const reader = new FileReader(path);
  const identity = await reader.open();
  assert.deepEqual(text((await reader.read()).lines), ['before rotation']);
  renameSync(path, `${path}.1`);
  appendFileSync(`${path}.1`, 'written during rotation\n');
  writeFileSync(path, 'new file\n');
  assert.equal(await reader.replaced(), true);
  assert.deepEqual(text((await reader.read()).lines), ['written during rotation'], 'nothing written to the old file is lost');
  const next = new FileReader(path);
  const nextIdentity = await next.open();
  assert.notEqual(nextIdentity.ino, identity.ino);
  assert.deepEqual(text((await next.read()).lines), ['new file']);
  await reader.close();
  await next.close();
  rmSync(dir, { recursive: true });
});

test('copytruncate: a file shorter than the read offset is noticed, remembered with what it held, and read again from 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reader-'));
  const path = join(dir, '0.log');
  writeFileSync(path, 'old line one\nold line two\n');
  const reader = new FileReader(path);
  assert.equal((await reader.read()).lines.length, 2);
  const before = await reader.fileIdentity();
  truncateSync(path, 0);
  appendFileSync(path, 'after truncate\n');
  const noticed = await reader.read();
  assert.equal(noticed.truncated, true);
  assert.deepEqual(noticed.lines, [], 'nothing of the new content yet: the copy’s end goes first');
  assert.deepEqual(reader.lastTruncation, { fingerprint: before.fingerprint, offset: 26 });
  const after = await reader.read();
  assert.equal(after.truncated, false);
  assert.deepEqual(text(after.lines), ['after truncate']);
  assert.equal(after.lines[0]?.offset, 0);
  assert.notEqual((await reader.fileIdentity()).fingerprint, before.fingerprint);
  await reader.close();
  rmSync(dir, { recursive: true });
});

test('the fingerprint is the first line’s hash, empty until that line is whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reader-'));
  const path = join(dir, '0.log');
  writeFileSync(path, 'no newline yet');
  const reader = new FileReader(path);
  assert.equal((await reader.open()).fingerprint, '');
  appendFileSync(path, '\nmore\n');
  const identity = await reader.fileIdentity();
  assert.match(identity.fingerprint, /^[0-9a-f]{16}$/);
  writeFileSync(join(dir, 'same.log'), 'no newline yet\nother\n');
  const same = new FileReader(join(dir, 'same.log'));
  assert.equal((await same.open()).fingerprint, identity.fingerprint, 'same first line, same fingerprint');
  await reader.close();
  await same.close();
  rmSync(dir, { recursive: true });
});
