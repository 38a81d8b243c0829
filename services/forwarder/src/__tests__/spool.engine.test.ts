/**
 * The spool in the running forwarder, against the real broker: a tenant whose topic doesn't
 * exist yet is spooled up to its share of the spool, then its files wait (backpressure,
 * said in metrics); another tenant flows straight through meanwhile; once the topic exists
 * everything arrives, once and in order, and the spool is empty again.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { eventually, testEngines, uniqueName } from '@tributary/testkit';
import { Forwarder } from '../index.js';
import { cri, records, sample } from './helpers.js';

const engines = testEngines();
const logger = pino({ level: 'silent' });
const kafka = createKafka({ brokers: engines.brokers, clientId: 'forwarder-spool-test' }, logger);
const scratch = mkdtempSync(join(tmpdir(), 'forwarder-spool-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('a tenant whose topic is missing is spooled up to its share, then waits in its files; another tenant is not held back; all arrives once the topic exists', { timeout: 180_000 }, async () => {
  const missing = uniqueName('fwd-missing');
  const healthy = uniqueName('fwd-healthy');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(healthy, { partitions: 1 }));
  const root = join(scratch, 'pods');
  const stateDir = join(scratch, 'state');
  const fileOf = (tenant: string, uid: string): string => {
    const dir = join(root, `${tenant}_app-0_${uid}/app`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0.log'), '');
    return join(dir, '0.log');
  };
  const waiting = fileOf(missing, '0000000a-0d3e-4a8b-9c51-2b7e00000000');
  const flowing = fileOf(healthy, '0000000b-0d3e-4a8b-9c51-2b7e00000000');
  const line = (n: number): string => cri(`line ${n} ${'p'.repeat(200)}`);
  let written = 0;
  const write = (count: number): void => {
    let chunk = '';
    for (let i = 0; i < count; i++) chunk += line(written++);
    appendFileSync(waiting, chunk);
  };
  write(200); // ≈ 50 KiB: more than the tenant's share of the spool once framed

  const forwarder = new Forwarder({
    brokers: engines.brokers,
    root,
    node: 'node-spool',
    stateDir,
    pollIntervalMs: 50,
    rescanIntervalMs: 200,
    backoff: { initialMs: 100, maxMs: 1000 },
    spool: { maxBytes: 256 * 1024, maxBytesPerTenant: 32 * 1024, afterMs: 300 },
    metricsPort: 0,
    host: '127.0.0.1',
    logger,
  });
  await forwarder.start();
  try {
    const metrics = async (): Promise<string> => (await fetch(`${forwarder.metricsAddress}/metrics`)).text();
    const label = `{tenant="${missing}"}`;
    await eventually('the missing tenant is spooled', async () => (sample(await metrics(), 'tributary_forwarder_spool_bytes', label) ?? 0) > 0);
    assert.ok(existsSync(join(stateDir, 'spool', `logs.${missing}`)), 'on disk, under the state dir');
    // Read again into the spool until the tenant's share is taken; then its file waits.
    write(200);
    await eventually('the spool is full for the missing tenant', async () => sample(await metrics(), 'tributary_forwarder_spool_full', label) === 1);
    const spooledAtFull = forwarder.spooledBytes;
    write(300);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(forwarder.spooledBytes <= spooledAtFull + 64 * 1024, `reading stopped: ${forwarder.spooledBytes} bytes spooled, ${spooledAtFull} when full`);
    assert.ok((sample(await metrics(), 'tributary_forwarder_unacknowledged_bytes') ?? 0) > 0, 'the rest waits in the file');

    // Meanwhile the healthy tenant's lines go straight through.
    appendFileSync(flowing, cri('healthy one') + cri('healthy two'));
    const healthyRecords = await records(kafka, `logs.${healthy}`, 2);
    assert.deepEqual(healthyRecords.map((r) => r.envelope.message), ['healthy one', 'healthy two']);
    assert.equal(sample(await metrics(), 'tributary_forwarder_spool_bytes', `{tenant="${healthy}"}`) ?? 0, 0);

    // The control plane creates the topic: the spool drains, the file is read on, in order.
    await ensureTopics(admin, tenantTopics(missing, { partitions: 1 }));
    const got = await records(kafka, `logs.${missing}`, written, 90_000);
    assert.deepEqual(
      got.map((r) => r.envelope.message),
      Array.from({ length: written }, (_, n) => `line ${n} ${'p'.repeat(200)}`),
      'every line once, in the order written',
    );
    assert.equal(new Set(got.map((r) => r.envelope.id)).size, written);
    await eventually('the spool is empty again', async () => {
      const text = await metrics();
      return sample(text, 'tributary_forwarder_spool_bytes', label) === 0 && sample(text, 'tributary_forwarder_spool_full', label) === 0;
    });
    const text = await metrics();
    assert.ok((sample(text, 'tributary_forwarder_spooled_records_total', label) ?? 0) > 0);
    assert.equal(sample(text, 'tributary_forwarder_records_produced_total', label), written);
    assert.equal(existsSync(join(stateDir, 'spool', `logs.${missing}`)), false, 'a drained spool leaves nothing on disk');
    // Back to the direct path: a new line goes straight through.
    appendFileSync(waiting, cri('after the drain'));
    const last = await records(kafka, `logs.${missing}`, written + 1);
    assert.equal(last.at(-1)?.envelope.message, 'after the drain');
    assert.equal(sample(await metrics(), 'tributary_forwarder_spooled_records_total', label), sample(text, 'tributary_forwarder_spooled_records_total', label), 'not spooled');
  } finally {
    await forwarder.stop();
    await admin.disconnect();
  }
});
