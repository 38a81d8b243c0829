import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PositionFileError, PositionStore, type FilePosition } from './positions.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'positions-'));
const position: FilePosition = { path: '/var/log/pods/a_p_1/c/0.log', dev: 2049, ino: 1234, fingerprint: '0123456789abcdef', offset: 4096 };

test('positions round-trip through the file; no file means none', async () => {
  const stateDir = dir();
  const store = new PositionStore(join(stateDir, 'nested'));
  assert.deepEqual(await store.load(), []);
  await store.save([position, { ...position, ino: 5, fingerprint: '', offset: 0 }]);
  assert.deepEqual(await store.load(), [position, { ...position, ino: 5, fingerprint: '', offset: 0 }]);
  await store.save([{ ...position, offset: 8192 }]);
  assert.deepEqual(await store.load(), [{ ...position, offset: 8192 }]);
  assert.deepEqual(readdirSync(join(stateDir, 'nested')), ['positions.json'], 'no temporary file left behind');
  rmSync(stateDir, { recursive: true });
});

test('a damaged position file is refused with where and why, not read as nothing', async () => {
  const stateDir = dir();
  const store = new PositionStore(stateDir);
  const refuse = async (body: string, reason: RegExp): Promise<void> => {
    writeFileSync(store.path, body);
    await assert.rejects(store.load(), (err: unknown) => err instanceof PositionFileError && reason.test(err.message) && err.message.startsWith(store.path));
  };
  await refuse('{"version":1,"files":[', /not JSON/);
  await refuse('{"version":2,"files":[]}', /expected \{"version":1/);
  await refuse(JSON.stringify({ version: 1, files: [{ ...position, offset: -1 }] }), /files\[0\]: offset/);
  await refuse(JSON.stringify({ version: 1, files: [{ ...position, fingerprint: 'xyz' }] }), /files\[0\]: fingerprint/);
  rmSync(stateDir, { recursive: true });
});
