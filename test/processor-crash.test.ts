/**
 * The processor's central promise under the worst fault: two instances in one group, each
 * killed with SIGKILL again and again while 200 000 records go through. Elasticsearch must
 * end up with exactly the records produced: none missing (offsets committed only after
 * acknowledgement), none twice (ids).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';

const RECORDS = Number(process.env['CRASH_TEST_RECORDS'] ?? 200_000);
const fixture = join(import.meta.dirname, 'fixtures', 'processor-process.ts');

function startProcessor(group: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, PROCESSOR_GROUP: group, PROCESSOR_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: process.env['CRASH_TEST_LOG_LEVEL'] ?? 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

test(`kill -9 of processors during ${RECORDS} records loses nothing and stores nothing twice`, { timeout: 600_000 }, async (t) => {
  const engines = testEngines();
  const tenant = uniqueName('crash');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'crash-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 4 }));
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let start = 0; start < RECORDS; start += 5000) {
    const messages = [];
    for (let i = start; i < Math.min(RECORDS, start + 5000); i++) {
      const value = encodeEnvelope({
        id: `crash-${i}`,
        time: '2026-11-25T10:00:00Z',
        stream: 'stdout',
        message: `line ${i} of the crash test`,
        source: { kind: 'sdk', app: 'crash', host: 'h' },
      });
      messages.push({ key: `stream-${i % 16}`, value });
    }
    await producer.send({ topic: `logs.${tenant}`, acks: -1, compression: kafkajs.CompressionTypes.LZ4, messages });
  }
  await producer.disconnect();

  const es = createElasticsearch({ url: engines.elasticsearchUrl });
  const index = `logs.${tenant}.default`;
  const count = async (): Promise<number> => {
    await es.indices.refresh({ index }).catch(() => undefined);
    return (await es.count({ index }).catch(() => ({ count: 0 }))).count;
  };

  const group = uniqueName('crash-group');
  const members: ChildProcess[] = [startProcessor(group), startProcessor(group)];
  let kills = 0;
  const deadline = Date.now() + 540_000;
  try {
    // Kill a member every few seconds while documents are still arriving; respawn it at once.
    while ((await count()) < RECORDS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 4000));
      if (kills < 6 && (await count()) < RECORDS) {
        const victim = kills % 2;
        members[victim]?.kill('SIGKILL');
        members[victim] = startProcessor(group);
        kills++;
      }
    }
    assert.ok(kills >= 2, `only ${kills} kills happened before all documents arrived; raise CRASH_TEST_RECORDS`);
    // Let any re-delivery after the last kill land, then check the exact set.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const stored = await count();
    assert.equal(stored, RECORDS, `${stored} documents for ${RECORDS} records after ${kills} kills`);
    t.diagnostic(`${RECORDS} records, ${kills} processors killed with SIGKILL, ${stored} documents stored`);
    // _id is the envelope id and every id is distinct, so the count being exact means the
    // set is exact: a missing record can't be hidden by a duplicate.
    const sample = await es.mget({ index, ids: ['crash-0', `crash-${RECORDS - 1}`, `crash-${Math.floor(RECORDS / 2)}`] });
    assert.ok(sample.docs.every((d) => 'found' in d && d.found));
  } finally {
    for (const member of members) member.kill('SIGTERM');
    await Promise.all(members.map((m) => new Promise((resolve) => (m.exitCode !== null ? resolve(undefined) : m.once('exit', resolve)))));
    const found = await es.indices.get({ index: `logs.${tenant}.*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => ({}));
    if (Object.keys(found).length > 0) await es.indices.delete({ index: Object.keys(found) }).catch(() => undefined);
    await es.close();
  }
});
