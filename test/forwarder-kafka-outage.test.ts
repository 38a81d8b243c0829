/**
 * Kafka goes away for 30 s while containers go on writing: the forwarder reads on into its
 * spool (a rotated file the kubelet deletes meanwhile included), is stopped with SIGTERM in
 * the middle of the outage and started again, and once Kafka is back every line arrives,
 * each stream in order, with one distinct id per line. The broker is this test's own, so
 * stopping it holds back no other test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { eventually, freePort, startRestartableKafka, uniqueName } from '@tributary/testkit';
import { assertEveryStreamInOrder, readForwardedLines } from './fixtures/forwarded-lines.js';

const OUTAGE_MS = Number(process.env['FORWARDER_OUTAGE_MS'] ?? 30_000);
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One sample of the forwarder's `/metrics`, summed over its labels; undefined when it doesn't answer. */
async function metric(port: number, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const values = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
    return values.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}


test(`Kafka stopped for ${OUTAGE_MS / 1000} s while lines are written, and the forwarder stopped with SIGTERM during it: the spool fills and drains, nothing lost, each stream in order`, { timeout: 600_000 }, async (t) => {
  const broker = await startRestartableKafka({ startTimeoutMs: 180_000 });
  t.after(() => broker.dispose());
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'forwarder-outage-test' }, pino({ level: 'silent' }));
  const tenant = uniqueName('fwd-outage');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 2 }));
  await admin.disconnect();

  const scratch = mkdtempSync(join(tmpdir(), 'forwarder-outage-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const root = join(scratch, 'pods');
  const stateDir = join(scratch, 'state');
  const files = [0, 1].map((k) => {
    const dir = join(root, `${tenant}_app-${k}_0000000${k}-0d3e-4a8b-9c51-2b7e00000000/app`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0.log'), '');
    return { path: join(dir, '0.log'), written: 0 };
  });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const startForwarder = (): ChildProcess =>
    spawn(process.execPath, [bin, 'forwarder', '--root', root, '--node', 'node-outage', '--state-dir', stateDir, '--metrics-port', String(port), '--spool-after-ms', '1000', '--shutdown-timeout-ms', '3000'], {
      env: { ...process.env, KAFKA_BROKERS: broker.brokers.join(','), LOG_LEVEL: process.env['FORWARDER_LOG_LEVEL'] ?? 'error' },
      stdio: ['ignore', process.env['FORWARDER_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit'],
    });
  child = startForwarder();
  t.after(() => void child?.kill('SIGKILL'));

  // The writer: 50 lines to each file every 50 ms (≈ 2 000 lines/s), until told to stop.
  let writing = true;
  const writer = (async () => {
    while (writing) {
      for (const file of files) {
        let chunk = '';
        for (let i = 0; i < 50; i++, file.written++) chunk += `${new Date().toISOString()} stdout F line ${file.written} ${'o'.repeat(60)}\n`;
        appendFileSync(file.path, chunk);
      }
      await sleep(50);
    }
  })();

  await eventually('lines flow before the outage', async () => ((await metric(port, 'tributary_forwarder_records_produced_total')) ?? 0) > 1000, 60_000);
  const outageStarted = Date.now();
  await broker.stop();

  // Spooling: what is read while Kafka is away goes to disk.
  await eventually('the spool fills', async () => ((await metric(port, 'tributary_forwarder_spool_bytes')) ?? 0) > 100_000, 20_000);
  // The kubelet rotates a file and, later, deletes the rotated one: its lines must be spooled by then.
  const rotated = `${files[0]?.path}.20261125-120000`;
  renameSync(files[0]?.path as string, rotated);
  writeFileSync(files[0]?.path as string, '');
  await sleep(2500); // a rescan (every 2 s) finds the rotation
  await eventually('the rotated file read to its end and forgotten', async () => (await metric(port, 'tributary_forwarder_files_followed')) === 2, 20_000);
  unlinkSync(rotated);

  // SIGTERM during the outage: the forwarder stops within its deadline, and what it read is on disk.
  const spooledBeforeStop = (await metric(port, 'tributary_forwarder_spool_bytes')) ?? 0;
  const stopping = Date.now();
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child?.once('exit', (c) => resolve(c)));
  const stopMs = Date.now() - stopping;
  assert.equal(code, 0, 'a clean stop');
  assert.ok(stopMs < 15_000, `stopped in ${stopMs} ms`);
  const spoolDir = join(stateDir, 'spool', `logs.${tenant}`);
  assert.ok(existsSync(spoolDir) && readdirSync(spoolDir).some((n) => n.endsWith('.seg')), 'the spool persisted');
  child = startForwarder();
  await eventually('the restarted forwarder answers', async () => (await metric(port, 'tributary_forwarder_spool_bytes')) !== undefined, 30_000);

  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
  await broker.start();
  const outageMs = Date.now() - outageStarted;
  await sleep(3000);
  writing = false;
  await writer;
  const lines = files.reduce((n, f) => n + f.written, 0);

  // Everything, once Kafka is back: by stream, the line numbers in first-seen order.
  const { streams, ids, records } = await readForwardedLines(kafka, `logs.${tenant}`, lines);
  await eventually('the spool drained', async () => (await metric(port, 'tributary_forwarder_spool_bytes')) === 0, 60_000);
  child.kill('SIGTERM');
  await new Promise((resolve) => child?.once('exit', resolve));

  t.diagnostic(`${lines} lines; Kafka away ${outageMs} ms; ${spooledBeforeStop} bytes spooled at the SIGTERM, stopped in ${stopMs} ms; ${records} records (${records - ids.size} re-sent with the same id)`);
  assert.equal(ids.size, lines, 'one distinct id per line');
  assert.equal(streams.size, 2);
  assertEveryStreamInOrder(streams);
  assert.equal(existsSync(spoolDir), false, 'a drained spool leaves nothing on disk');
});
