import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { EngineProcess, groupAlive } from './process.js';
import { waitUntilReady } from './wait.js';

function spawnNode(script: string, dir: string): Promise<EngineProcess> {
  return EngineProcess.spawn({ engine: 'kafka', command: process.execPath, args: ['-e', script], cwd: dir, env: process.env, logFile: join(dir, 'engine.log') });
}

test('stop() ends the whole process group, grandchildren included, even if they ignore SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-process-'));
  try {
    // A launcher that starts a stubborn child, like Elasticsearch's CLI starting the server JVM.
    const engine = await spawnNode(
      `const { spawn } = require('node:child_process');
       const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('grandchild', process.pid); setInterval(() => {}, 1000)"], { stdio: 'inherit' });
       setInterval(() => {}, 1000);`,
      dir,
    );
    await waitUntilReady({ engine: 'kafka', process: engine, ready: async () => engine.tail().includes('grandchild'), timeoutMs: 10_000 });
    const grandchild = Number(/grandchild (\d+)/.exec(engine.tail())?.[1]);
    assert.ok(grandchild > 0);
    await Promise.all([engine.stop(500), engine.stop(500)]);
    assert.equal(groupAlive(engine.pid), false);
    assert.throws(() => process.kill(grandchild, 0), /ESRCH/);
    await engine.stop(); // a second stop is harmless
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an engine that exits before it is ready fails with its name and the tail of its log', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-process-'));
  try {
    const engine = await spawnNode(`console.error('Address already in use'); process.exit(3)`, dir);
    await assert.rejects(
      waitUntilReady({ engine: 'elasticsearch', process: engine, ready: async () => false, timeoutMs: 10_000 }),
      (err: unknown) => {
        assert.ok(err instanceof EngineError);
        assert.equal(err.code, 'TRIBUTARY_ENGINE_START_FAILED');
        assert.match(err.message, /^elasticsearch: exited with code 3/);
        assert.match(err.message, /Address already in use/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an engine that never answers fails after the timeout, marked retriable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-process-'));
  try {
    const engine = await spawnNode(`console.log('starting'); setInterval(() => {}, 1000)`, dir);
    await assert.rejects(
      waitUntilReady({ engine: 'schemaRegistry', process: engine, ready: async () => false, timeoutMs: 300, intervalMs: 50 }),
      (err: unknown) => err instanceof EngineError && err.code === 'TRIBUTARY_ENGINE_UNHEALTHY' && err.retriable,
    );
    await engine.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
