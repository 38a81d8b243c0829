/**
 * `tributary processor` as an SRE runs it: flags, a bad flag refused with exit 2, and on
 * SIGTERM a clean exit 0 that has committed everything acknowledged and left the group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';

const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const RECORDS = 2000;

test('a bad flag is refused with exit 2, naming the flag', async () => {
  const env = { ...process.env, KAFKA_BROKERS: '127.0.0.1:9', ELASTICSEARCH_URL: 'http://127.0.0.1:9' };
  const failure = await promisify(execFile)(process.execPath, [bin, 'processor', '--max-bulk-bytes', 'huge'], { env }).then(
    () => assert.fail('a bad flag was accepted'),
    (err: { code?: number; stdout?: string; stderr?: string }) => err,
  );
  assert.equal(failure.code, 2);
  assert.match(`${failure.stdout}${failure.stderr}`, /--max-bulk-bytes \\?"huge\\?": expected a size/);
});

test('SIGTERM: the processor finishes, commits what is acknowledged, leaves the group and exits 0', { timeout: 120_000 }, async (t) => {
  const engines = testEngines();
  const tenant = uniqueName('cli-processor');
  const group = uniqueName('cli-processor-group');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'cli-processor-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 2 }));
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const messages = Array.from({ length: RECORDS }, (_, i) => ({
    key: `k${i % 8}`,
    value: encodeEnvelope({ id: `cli-${tenant}-${i}`, time: '2026-11-25T10:00:00Z', stream: 'stdout', message: `line ${i}`, source: { kind: 'sdk', app: 'cli', host: 'h' } }),
  }));
  await producer.send({ topic: `logs.${tenant}`, acks: -1, messages });
  await producer.disconnect();

  const child = spawn(process.execPath, [bin, 'processor', '--group', group, '--tenants', tenant, '--metrics-port', '0', '--linger-ms', '20', '--shutdown-timeout-ms', '5000'], {
    env: { ...process.env, KAFKA_BROKERS: engines.brokers.join(','), ELASTICSEARCH_URL: engines.elasticsearchUrl, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => void child.kill('SIGKILL'));

  const es = createElasticsearch({ url: engines.elasticsearchUrl });
  t.after(() => es.close());
  const index = `logs.${tenant}.default`;
  const deadline = Date.now() + 60_000;
  let count = 0;
  while (count < RECORDS) {
    if (Date.now() > deadline) assert.fail(`${count} of ${RECORDS} documents after 60 s; processor output:\n${output.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await es.indices.refresh({ index }).catch(() => undefined);
    count = (await es.count({ index }).catch(() => ({ count: 0 }))).count;
  }
  const metricsUrl = /"metrics":"(http:\/\/[^"]+)"/.exec(output)?.[1];
  assert.ok(metricsUrl, `the processor logs where its metrics are:\n${output.slice(-2000)}`);
  const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
  assert.match(metrics, new RegExp(`tributary_processor_records_out_total\\{tenant="${tenant}",outcome="indexed"\\} ${RECORDS}`));

  const stoppedAt = Date.now();
  child.kill('SIGTERM');
  const code = await exited;
  const took = Date.now() - stoppedAt;
  t.diagnostic(`SIGTERM → exit ${code} in ${took} ms`);
  assert.equal(code, 0, output.slice(-2000));
  assert.ok(took < 15_000, `exited within the shutdown deadline (${took} ms)`);

  const offsets = await admin.fetchOffsets({ groupId: group, topics: [`logs.${tenant}`] });
  const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  assert.equal(committed, RECORDS, 'every acknowledged record committed: a restart repeats nothing');
  const described = await admin.describeGroups([group]);
  assert.equal(described.groups[0]?.state, 'Empty', 'the member left the group instead of waiting out its session');
});
