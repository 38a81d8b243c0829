/**
 * Scaling the processor group during a drain, as KEDA or an SRE would: a backlog in a
 * tenant's topic, one processor, then a second and a third while it drains. The lag must
 * reach zero and Elasticsearch hold every record once; the pause each join causes (kafkajs
 * rebalances eagerly: every member stops for a join) is measured and reported, with the
 * drain rate at each group size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, sampleLag, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';

const RECORDS = Number(process.env['SCALING_TEST_RECORDS'] ?? 120_000);
const fixture = join(import.meta.dirname, 'fixtures', 'processor-process.ts');

test(`a backlog of ${RECORDS} drains to zero lag while the group grows from one processor to three, every record stored once`, { timeout: 600_000 }, async (t) => {
  const engines = testEngines();
  const tenant = uniqueName('scaling');
  const topic = `logs.${tenant}`;
  const group = uniqueName('scaling-group');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'scaling-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 6 }));
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let start = 0; start < RECORDS; start += 5000) {
    const messages = [];
    for (let i = start; i < Math.min(RECORDS, start + 5000); i++) {
      const value = encodeEnvelope({ id: `scale-${i}`, time: '2026-12-03T10:00:00Z', stream: 'stdout', message: `line ${i} of the scaling test`, source: { kind: 'sdk', app: 'scale', host: 'h' } });
      messages.push({ key: `stream-${i % 24}`, value });
    }
    await producer.send({ topic, acks: -1, compression: kafkajs.CompressionTypes.LZ4, messages });
  }
  await producer.disconnect();

  const es = createElasticsearch({ url: engines.elasticsearchUrl });
  const index = `logs.${tenant}.default`;
  const count = async (): Promise<number> => {
    await es.indices.refresh({ index }).catch(() => undefined);
    return (await es.count({ index }).catch(() => ({ count: 0 }))).count;
  };
  const members: ChildProcess[] = [];
  const join_ = (): void => {
    members.push(
      spawn(process.execPath, ['--import', 'tsx', fixture], {
        env: { ...process.env, PROCESSOR_GROUP: group, PROCESSOR_SESSION_TIMEOUT_MS: '10000', LOG_LEVEL: 'error' },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
  };

  // The count every 250 ms, and when each member was started.
  const samples: Array<{ at: number; stored: number }> = [];
  const joins: Array<{ members: number; at: number }> = [];
  try {
    join_();
    joins.push({ members: 1, at: Date.now() });
    const deadline = Date.now() + 480_000;
    for (;;) {
      const stored = await count();
      samples.push({ at: Date.now(), stored });
      if (stored >= RECORDS || Date.now() > deadline) break;
      if (members.length === 1 && stored >= RECORDS * 0.2) {
        join_();
        joins.push({ members: 2, at: Date.now() });
      } else if (members.length === 2 && stored >= RECORDS * 0.5) {
        join_();
        joins.push({ members: 3, at: Date.now() });
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(members.length, 3, 'the third processor joined before the end');
    const lag = async () => (await sampleLag(admin, group, [topic])).partitions.reduce((n, p) => n + p.high - p.committed, 0);
    let remaining = await lag();
    for (let i = 0; i < 60 && remaining > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      remaining = await lag();
    }
    assert.equal(remaining, 0, 'the group committed everything');
    const stored = await count();
    assert.equal(stored, RECORDS, 'every record once (ids are distinct: an exact count is an exact set)');

    // Per group size: the drain rate, and the pause after the join (the longest stretch
    // without a new document in the 30 s after it).
    const rows: string[] = [];
    for (const [i, j] of joins.entries()) {
      const until = joins[i + 1]?.at ?? samples.at(-1)?.at ?? j.at;
      const within = samples.filter((s) => s.at >= j.at && s.at <= until);
      const first = within[0];
      const last = within.at(-1);
      let pause = 0;
      let flatSince: number | undefined;
      for (const [k, s] of within.entries()) {
        if (s.at > j.at + 30_000) break;
        const before = within[k - 1];
        if (before && s.stored === before.stored) flatSince ??= before.at;
        else if (flatSince !== undefined) {
          pause = Math.max(pause, s.at - flatSince);
          flatSince = undefined;
        }
      }
      const rate = first && last && last.at > first.at ? ((last.stored - first.stored) * 1000) / (last.at - first.at) : 0;
      const firstDocument = samples.find((s) => s.stored > 0);
      const wait = i === 0 ? `first document ${(((firstDocument?.at ?? j.at) - j.at) / 1000).toFixed(1)} s after the start` : `longest stretch without a new document after the join ${(pause / 1000).toFixed(1)} s (sampled every 250 ms)`;
      rows.push(`${j.members} processor${j.members > 1 ? 's' : ''}: ${Math.round(rate)} records/s; ${wait}`);
    }
    for (const row of rows) t.diagnostic(row);
  } finally {
    for (const member of members) member.kill('SIGTERM');
    await Promise.all(members.map((m) => new Promise((resolve) => (m.exitCode !== null ? resolve(undefined) : m.once('exit', resolve)))));
    await admin.disconnect();
    await es.indices.delete({ index }).catch(() => undefined);
    await es.close();
  }
});
