/**
 * The forwarder's central promise under the worst fault: `tributary forwarder` killed with
 * SIGKILL again and again while a writer appends 200 000 lines to four container log files,
 * rotating them by rename. Every line must arrive, each stream in order, and the distinct
 * ids must be exactly the lines: re-sent lines keep their ids (Elasticsearch stores them once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';
import { assertEveryStreamInOrder, readForwardedLines } from './fixtures/forwarded-lines.js';

const LINES = Number(process.env['FORWARDER_CRASH_LINES'] ?? 200_000);
const FILES = 4;
const ROTATE_EVERY = 15_000;
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');

test(`kill -9 of the forwarder during ${LINES} lines with rotation loses nothing, keeps each stream in order, and re-sends with the same ids`, { timeout: 600_000 }, async (t) => {
  const engines = testEngines();
  const tenant = uniqueName('fwd-crash');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'forwarder-crash-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 3 }));
  await admin.disconnect();
  const scratch = mkdtempSync(join(tmpdir(), 'forwarder-crash-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const root = join(scratch, 'pods');
  const stateDir = join(scratch, 'state');
  const files = Array.from({ length: FILES }, (_, k) => {
    const dir = join(root, `${tenant}_app-${k}_0000000${k}-0d3e-4a8b-9c51-2b7e00000000/app`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0.log'), '');
    return { path: join(dir, '0.log'), written: 0, rotations: 0 };
  });

  let child: ChildProcess | undefined;
  let kills = 0;
  const startForwarder = (): ChildProcess =>
    spawn(process.execPath, [bin, 'forwarder', '--root', root, '--node', 'node-crash', '--state-dir', stateDir, '--metrics-port', '0'], {
      env: { ...process.env, KAFKA_BROKERS: engines.brokers.join(','), LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  child = startForwarder();
  t.after(() => void child?.kill('SIGKILL'));

  // The writer: batches of lines to every file, some split by the runtime (P then F), each
  // file renamed away and started anew every ROTATE_EVERY lines.
  let total = 0;
  const writer = (async () => {
    while (total < LINES) {
      for (const file of files) {
        let chunk = '';
        for (let i = 0; i < 50 && total < LINES; i++, total++, file.written++) {
          const time = new Date().toISOString();
          const seq = file.written;
          chunk += seq % 97 === 0 ? `${time} stdout P line ${seq} of ${file.path.length}-` + `\n${time} stdout F ${'x'.repeat(20)}\n` : `${time} stdout F line ${seq} ${'y'.repeat(40)}\n`;
        }
        appendFileSync(file.path, chunk);
        if (file.written >= (file.rotations + 1) * ROTATE_EVERY) {
          file.rotations++;
          renameSync(file.path, `${file.path}.${file.rotations}`);
          writeFileSync(file.path, '');
        }
      }
      // ≈ 6 700 lines/s in all: the writing spans many kills.
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  })();
  const killer = setInterval(() => {
    child?.kill('SIGKILL');
    kills++;
    child = startForwarder();
  }, 3000);
  await writer;
  clearInterval(killer);

  // Read everything back: by stream (key), the line numbers in first-seen order.
  const { streams, ids, records } = await readForwardedLines(kafka, `logs.${tenant}`, LINES);
  child?.kill('SIGTERM');

  t.diagnostic(`${LINES} lines, ${kills} forwarders killed with SIGKILL, ${records} records (${records - ids.size} re-sent with the same id), ${files.reduce((n, f) => n + f.rotations, 0)} rotations`);
  assert.equal(ids.size, LINES, 'one distinct id per line');
  assertEveryStreamInOrder(streams, LINES / FILES);
});
