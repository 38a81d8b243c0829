/**
 * `tributary lag` against real Kafka: a group's commits on a tenant's topic, records produced
 * while it measures, and what it reports from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';

const engines = testEngines();
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const run = promisify(execFile);

test('lag per tenant and partition, the rate records come in, and the time to drain', { timeout: 120_000 }, async () => {
  const tenant = uniqueName('lag');
  const idle = uniqueName('lag-idle');
  const group = uniqueName('lag-group');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'lag-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  try {
    await ensureTopics(admin, [...tenantTopics(tenant, { partitions: 2 }), ...tenantTopics(idle, { partitions: 1 })]);
    for (const partition of [0, 1]) {
      await producer.send({ topic: `logs.${tenant}`, acks: -1, messages: Array.from({ length: 1000 }, (_, i) => ({ partition, value: `r${i}` })) });
    }
    // The group has processed 300 of partition 0 and all of partition 1.
    await admin.setOffsets({ groupId: group, topic: `logs.${tenant}`, partitions: [{ partition: 0, offset: '300' }, { partition: 1, offset: '1000' }] });

    // 500 more on partition 1 once it has taken its first sample.
    const child = spawn(process.execPath, [bin, 'lag', '--group', group, '--tenants', `${tenant},${idle}`, '--interval', '3s', '--json'], {
      env: { ...process.env, KAFKA_BROKERS: engines.brokers.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const measuring = new Promise<void>((resolve) => child.stderr.on('data', (c: Buffer) => ((stderr += c.toString()), stderr.includes('measuring rates') && resolve())));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await Promise.race([measuring, exited]);
    assert.match(stderr, /measuring rates over 3s/);
    await producer.send({ topic: `logs.${tenant}`, acks: -1, messages: Array.from({ length: 500 }, (_, i) => ({ partition: 1, value: `late${i}` })) });
    assert.equal(await exited, 0, stderr);
    const report = JSON.parse(stdout) as { members: number; tenants: Array<{ tenant: string; lag: number; producedPerSecond: number; consumedPerSecond: number; drainSeconds: number | null; processorsForTarget: number | null; partitions: Array<{ partition: number; lag: number }> }> };
    assert.equal(report.members, 0, 'nobody consumes');
    const busy = report.tenants.find((t) => t.tenant === tenant);
    assert.ok(busy, stdout);
    assert.deepEqual(busy.partitions.map((p) => [p.partition, p.lag]), [[0, 700], [1, 500]]);
    assert.equal(busy.lag, 1200);
    assert.ok(busy.producedPerSecond > 100 && busy.producedPerSecond <= 500 / 3 + 1, `about 500 over 3 s: ${busy.producedPerSecond}`);
    assert.equal(busy.consumedPerSecond, 0);
    assert.equal(busy.drainSeconds, null, 'it never drains with nobody consuming');
    assert.equal(busy.processorsForTarget, null);
    const quiet = report.tenants.find((t) => t.tenant === idle);
    assert.deepEqual([quiet?.lag, quiet?.drainSeconds], [0, 0], 'an empty topic has nothing to drain');

    const table = await run(process.execPath, [bin, 'lag', '--group', group, '--tenants', tenant, '--interval', '1s', '--partitions'], { env: { ...process.env, KAFKA_BROKERS: engines.brokers.join(',') } });
    assert.match(table.stdout, new RegExp(`^${tenant}\\s+2\\s+1200\\s`, 'm'));
    assert.match(table.stdout, /^\s+#0\s+700\s/m);
    assert.match(table.stdout, /never/);
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});

test('bad flags are refused with what and where', async () => {
  const env = { ...process.env, KAFKA_BROKERS: engines.brokers.join(',') };
  const interval = await run(process.execPath, [bin, 'lag', '--interval', 'soon'], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((interval as { code: number }).code, 2);
  assert.match((interval as { stderr: string }).stderr, /--interval "soon": expected a duration like 30s, 15m or 2h/);
  const tenant = await run(process.execPath, [bin, 'lag', '--tenants', 'Bad_Tenant'], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((tenant as { code: number }).code, 2);
  assert.match((tenant as { stderr: string }).stderr, /--tenants "Bad_Tenant"/);
});

test('tributary topics lists partition counts and raises a tenant\'s, logs and dead letters together; never lowers', { timeout: 60_000 }, async () => {
  const tenant = uniqueName('topics');
  const env = { ...process.env, KAFKA_BROKERS: engines.brokers.join(',') };
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'topics-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, tenantTopics(tenant, { partitions: 2 }));
    const listed = JSON.parse((await run(process.execPath, [bin, 'topics', '--json'], { env })).stdout) as Array<{ topic: string; partitions: number }>;
    assert.deepEqual(listed.filter((t) => t.topic.endsWith(`.${tenant}`)), [{ topic: `dlq.${tenant}`, partitions: 2 }, { topic: `logs.${tenant}`, partitions: 2 }]);
    const raised = await run(process.execPath, [bin, 'topics', 'raise', tenant, '--partitions', '4'], { env });
    assert.match(raised.stdout, /2 → 4 partitions/);
    const metadata = await admin.fetchTopicMetadata({ topics: [`logs.${tenant}`, `dlq.${tenant}`] });
    assert.deepEqual(metadata.topics.map((t) => t.partitions.length), [4, 4]);
    const lower = await run(process.execPath, [bin, 'topics', 'raise', tenant, '--partitions', '3'], { env }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((lower as { code: number }).code, 1);
    assert.match((lower as { stderr: string }).stderr, /has 4 already; Kafka can only add partitions/);
  } finally {
    await admin.disconnect();
  }
});
