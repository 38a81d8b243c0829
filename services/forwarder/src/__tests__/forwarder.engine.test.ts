import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';
import { Forwarder } from '../index.js';
import { cri, records as readRecords, sample } from './helpers.js';

const engines = testEngines();
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
const kafka = createKafka({ brokers: engines.brokers, clientId: 'forwarder-test' }, logger);
const records = (topic: string, count: number, timeoutMs?: number): ReturnType<typeof readRecords> => readRecords(kafka, topic, count, timeoutMs);
const scratch = mkdtempSync(join(tmpdir(), 'forwarder-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A new tenant whose logs and dead-letter topics exist. */
async function tenantWithTopics(prefix: string, partitions: number): Promise<string> {
  const tenant = uniqueName(prefix);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions }));
  await admin.disconnect();
  return tenant;
}

function forwarder(root: string, stateDir: string): Forwarder {
  return new Forwarder({ brokers: engines.brokers, root, node: 'node-a', stateDir, pollIntervalMs: 50, rescanIntervalMs: 200, backoff: { initialMs: 50, maxMs: 500 }, metricsPort: 0, host: '127.0.0.1', logger });
}

test('container lines reach logs.<namespace> reassembled, in order, and a restart resumes where Kafka acknowledged', async () => {
  const tenant = await tenantWithTopics('fwd', 2);
  const root = join(scratch, 'pods-1');
  const stateDir = join(scratch, 'state-1');
  const dir = join(root, `${tenant}_api-0_6f1c0001-aaaa/api`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '0.log');
  writeFileSync(file, cri('one') + cri('tw', 'P') + cri('o') + cri('err line', 'F', 'stderr'));

  const first = forwarder(root, stateDir);
  await first.start();
  const got = await records(`logs.${tenant}`, 3);
  assert.deepEqual(got.map((r) => r.envelope.message), ['one', 'two', 'err line']);
  assert.ok(got.every((r) => r.key === '6f1c0001-aaaa/api'));
  assert.deepEqual(got[0]?.envelope.kubernetes, { namespace: tenant, pod: 'api-0', pod_uid: '6f1c0001-aaaa', container: 'api' });
  const base = first.metricsAddress as string;
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const text = await (await fetch(`${base}/metrics`)).text();
  const tenantLabel = `{tenant="${tenant}"}`;
  assert.equal(sample(text, 'tributary_forwarder_records_produced_total', tenantLabel), 3);
  assert.equal(sample(text, 'tributary_forwarder_lines_read_total', tenantLabel), 3);
  assert.equal(sample(text, 'tributary_forwarder_partial_lines_reassembled_total', tenantLabel), 1);
  assert.equal(sample(text, 'tributary_forwarder_files_followed'), 1);
  assert.equal(sample(text, 'tributary_forwarder_unacknowledged_bytes'), 0);
  await first.stop();

  // Written while no forwarder runs; a new one starts from the saved positions.
  appendFileSync(file, cri('three') + cri('four'));
  const second = forwarder(root, stateDir);
  await second.start();
  const all = await records(`logs.${tenant}`, 5);
  await second.stop();
  assert.deepEqual(all.map((r) => r.envelope.message), ['one', 'two', 'err line', 'three', 'four'], 'nothing lost, nothing sent twice');
  assert.equal(new Set(all.map((r) => r.envelope.id)).size, 5);
});

test('a file rotated by rename is read to its end, lines written during the rotation included, and the new file followed', async () => {
  const tenant = await tenantWithTopics('fwd-rot', 1);
  const root = join(scratch, 'pods-2');
  const dir = join(root, `${tenant}_web-0_7a2b0002-bbbb/web`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '0.log');
  writeFileSync(file, cri('before'));
  const running = forwarder(root, join(scratch, 'state-2'));
  await running.start();
  await records(`logs.${tenant}`, 1);
  renameSync(file, `${file}.20261125-100000`);
  appendFileSync(`${file}.20261125-100000`, cri('during'));
  writeFileSync(file, cri('after'));
  const got = await records(`logs.${tenant}`, 3);
  await running.stop();
  assert.deepEqual(got.map((r) => r.envelope.message), ['before', 'during', 'after']);
  assert.equal(new Set(got.map((r) => r.envelope.id)).size, 3);
});

test('copytruncate: the copy’s unread end goes first, then the file started over; nothing twice, also after a restart', async () => {
  const tenant = await tenantWithTopics('fwd-copy', 1);
  const root = join(scratch, 'pods-3');
  const stateDir = join(scratch, 'state-3');
  const dir = join(root, `${tenant}_job-0_8c3d0003-cccc/job`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '0.log');
  writeFileSync(file, cri('a1') + cri('a2'));
  // Passes run only when the test says (runOnce), each with a rescan.
  const manual = (): Forwarder =>
    new Forwarder({ brokers: engines.brokers, root, node: 'node-a', stateDir, pollIntervalMs: 3_600_000, rescanIntervalMs: 0, metricsPort: undefined, logger });
  const first = manual();
  await first.start();
  await first.runOnce();
  await records(`logs.${tenant}`, 2);

  // Written just before logrotate runs, and not read yet: only the copy holds it afterwards.
  appendFileSync(file, cri('a3'));
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  appendFileSync(file, cri('b1'));
  for (let pass = 0; pass < 4; pass++) await first.runOnce();
  const got = await records(`logs.${tenant}`, 4);
  assert.deepEqual(got.map((r) => r.envelope.message), ['a1', 'a2', 'a3', 'b1'], 'in the order written, none twice');
  assert.equal(new Set(got.map((r) => r.envelope.id)).size, 4);
  await first.stop();

  // A restart neither reads the copy again nor the file from its start.
  appendFileSync(file, cri('b2'));
  const second = manual();
  await second.start();
  for (let pass = 0; pass < 2; pass++) await second.runOnce();
  const all = await records(`logs.${tenant}`, 5);
  await second.stop();
  assert.deepEqual(all.map((r) => r.envelope.message), ['a1', 'a2', 'a3', 'b1', 'b2']);
});

test('a rotated file with megabytes still unread is read to its end through its handle, even once the kubelet deleted it', async () => {
  const tenant = await tenantWithTopics('fwd-behind', 1);
  const root = join(scratch, 'pods-4');
  const dir = join(root, `${tenant}_batch-0_9d4e0004-dddd/batch`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '0.log');
  writeFileSync(file, cri('line 0'));
  const manual = new Forwarder({ brokers: engines.brokers, root, node: 'node-a', stateDir: join(scratch, 'state-4'), pollIntervalMs: 3_600_000, rescanIntervalMs: 0, metricsPort: undefined, logger });
  await manual.start();
  await manual.runOnce();
  // ≈ 3 MiB written, then rotated before the forwarder reads on: three reads' worth behind.
  let chunk = '';
  for (let n = 1; n <= 10_000; n++) chunk += cri(`line ${n} ${'b'.repeat(280)}`);
  appendFileSync(file, chunk);
  renameSync(file, `${file}.20261125-110000`);
  writeFileSync(file, cri('line 10001'));
  await manual.runOnce(); // finds the rotation and reads the first MiB of the rotated file
  rmSync(`${file}.20261125-110000`); // the kubelet keeps few rotated files
  for (let pass = 0; pass < 8; pass++) await manual.runOnce();
  const got = await records(`logs.${tenant}`, 10_002, 60_000);
  await manual.stop();
  assert.deepEqual(got.map((r) => Number(/^line (\d+)/.exec(r.envelope.message)?.[1])), Array.from({ length: 10_002 }, (_, n) => n));
});
