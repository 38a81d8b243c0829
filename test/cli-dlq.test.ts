/**
 * `tributary dlq` as a tenant runs it against a real control plane and Kafka: list and show
 * (a log line's control characters never reach the terminal), replay (the original key and
 * value byte for byte into logs.<tenant>, with the replay's headers), purge, each dry-run
 * first; a bad time and another tenant's token refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { ControlPlane } from '@tributary/control-plane';
import { createKafka, deadLetterMessage, DELIVERIES_TOPIC, ensureTopics, REPLAY_HEADERS, tenantTopics } from '@tributary/kafka';
import { deliveryStatusKey, type DeliveryStatus } from '@tributary/notify';
import { eventually, testEngines, uniqueName } from '@tributary/testkit';
import { parseWhen } from '../packages/cli/src/commands/dlq.js';

const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const engines = testEngines();
const logger = pino({ level: 'silent' });
const tenant = uniqueName('cli-dlq');
const other = uniqueName('cli-dlq-other');
const tokens = { [tenant]: 'token-of-the-cli-dlq-tenant-01', [other]: 'token-of-the-cli-dlq-other-012' };
let service: ControlPlane;
let kafka: Kafka;

async function tributary(args: string[], token = tokens[tenant]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, TRIBUTARY_SERVER: service.address, TRIBUTARY_TOKEN: token };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const value = (i: number): Buffer => Buffer.from(i === 0 ? '{"message":"red \u001b[31mALERT\u001b[0m and a bell \u0007"}' : `{"message":"broken ${i}","bytes":"\u00ff"}`, 'utf8');

before(async () => {
  service = new ControlPlane({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, port: 0, host: '127.0.0.1', tokens: { tenants: { [tenant]: [tokens[tenant]!], [other]: [tokens[other]!] } }, topics: { partitions: 1 }, logger });
  await service.start();
  kafka = createKafka({ brokers: engines.brokers, clientId: 'cli-dlq-test' }, logger);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 1 }));
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: `dlq.${tenant}`,
    acks: -1,
    messages: Array.from({ length: 5 }, (_, i) => ({
      ...deadLetterMessage(
        { key: Buffer.from([0x6b, 0x00, i]), value: value(i), headers: { 'x-trace': `trace-${i}` } },
        { class: i < 3 ? 'parse' : 'schema', message: `step failed on ${i}`, pipeline: 'api', version: 4, rule: 1, topic: `logs.${tenant}`, partition: 0, offset: String(100 + i), firstFailure: '2026-12-03T10:00:00.000Z' },
      ),
      timestamp: String(Date.parse('2026-12-03T10:00:00Z') + i * 1000),
    })),
  });
  // One replayed three times already (the default maximum): a loop stopped.
  await producer.send({
    topic: `dlq.${tenant}`,
    acks: -1,
    messages: [
      {
        ...deadLetterMessage(
          { key: null, value: Buffer.from('{"message":"again and again"}'), headers: { [REPLAY_HEADERS.count]: '3' } },
          { class: 'rejected', message: 'refused', pipeline: 'api', version: 4, topic: `logs.${tenant}`, partition: 0, offset: '105', firstFailure: '2026-12-03T10:00:00.000Z' },
        ),
        timestamp: String(Date.parse('2026-12-03T10:00:05Z')),
      },
    ],
  });
  await producer.disconnect();
});

after(async () => {
  await service?.stop();
});

test('a time is RFC 3339 or a duration back from now', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  assert.deepEqual(parseWhen('2h', now), { ok: true, iso: '2026-12-03T10:00:00.000Z' });
  assert.deepEqual(parseWhen('90s', now), { ok: true, iso: '2026-12-03T11:58:30.000Z' });
  assert.deepEqual(parseWhen('2026-12-01T00:00:00+01:00', now), { ok: true, iso: '2026-12-01T00:00:00+01:00' });
  for (const bad of ['yesterday', '2h ago', '-1h', '2026-12-01']) assert.equal(parseWhen(bad, now).ok, false, bad);
});

test('tributary dlq list, show, replay and purge', { timeout: 180_000 }, async () => {
  const scope = ['--tenant', tenant];
  const list = await tributary(['dlq', 'list', ...scope, '--class', 'parse']);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^2026-12-03T10:00:00\.000Z {2}0\/0 {2}parse step 1 {2}api v4 {2}step failed on 0 {2}/);
  assert.doesNotMatch(list.stdout, /[\u0000-\u0008\u000b-\u001f]/, 'no control character reaches the terminal');
  assert.match(lines[0]!, /red \\x1b\[31mALERT\\x1b\[0m and a bell \\x07/);

  const show = await tributary(['dlq', 'show', ...scope, '--since', '2026-12-03T10:00:03Z']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /dead letter 0\/3 at 2026-12-03T10:00:03\.000Z/);
  assert.match(show.stdout, /class: {4}schema step 1/);
  assert.match(show.stdout, /from: {5}logs\.\S+\/0\/103, first failed 2026-12-03T10:00:00\.000Z/);
  assert.match(show.stdout, /header: {3}x-trace: trace-3/);
  assert.doesNotMatch(show.stdout, /dead letter 0\/2 /, '--since');

  const badTime = await tributary(['dlq', 'list', ...scope, '--since', 'yesterday']);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /--since "yesterday": expected an RFC 3339 time/);
  const foreign = await tributary(['dlq', 'replay', ...scope], tokens[other]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /403: this token may not act for tenant/);

  const looping = await tributary(['dlq', 'replay', ...scope, '--class', 'rejected', '--dry-run']);
  assert.match(looping.stdout, /would replay 0 of 1 matching, 1 skipped \(replayed too often already\)/);
  const dry = await tributary(['dlq', 'replay', ...scope, '--class', 'parse', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would replay 3 of 3 matching/);
  const replay = await tributary(['dlq', 'replay', ...scope, '--class', 'parse']);
  assert.equal(replay.code, 0, replay.stderr);
  assert.match(replay.stdout, /^replay [0-9a-f-]{36}: 3 replayed of 3 matching so far, done$/m);

  // What reached logs.<tenant>: the original key and value, byte for byte, and the replay's headers.
  const consumer = kafka.consumer({ groupId: uniqueName('cli-dlq-reader') });
  const replayed: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: `logs.${tenant}`, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void replayed.push(message) });
  try {
    await eventually('the three replayed records are in logs.<tenant>', () => replayed.length === 3);
  } finally {
    await consumer.disconnect();
  }
  for (const [i, message] of replayed.entries()) {
    assert.deepEqual(message.key, Buffer.from([0x6b, 0x00, i]));
    assert.deepEqual(message.value, value(i));
    assert.equal(String(message.headers?.['x-trace']), `trace-${i}`, 'its own headers kept');
    assert.equal(String(message.headers?.[REPLAY_HEADERS.count]), '1');
    assert.equal(String(message.headers?.[REPLAY_HEADERS.from]), `dlq.${tenant}/0/${i}`);
    assert.equal(message.headers?.['tributary.error.class'], undefined, 'not the dead-letter headers');
  }

  // tributary status: the last hour's dead letters by class, and the subscription's last delivery.
  const applied = await service.http.inject({
    method: 'PUT',
    url: `/v1/tenants/${tenant}/pipelines/api`,
    headers: { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/yaml' },
    payload: `apiVersion: tributary.dev/v1alpha1\nkind: LoggingPipeline\nmetadata: { name: api, namespace: ${tenant} }\nspec:\n  output: { elasticsearch: { index: api } }\n`,
  });
  assert.equal(applied.statusCode, 201, applied.body);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: `dlq.${tenant}`,
    acks: -1,
    messages: [0, 1, 2].map((i) => deadLetterMessage({ key: null, value: Buffer.from('{}') }, { class: i < 2 ? 'parse' : 'budget', message: 'x', pipeline: 'api', version: 1, topic: `logs.${tenant}`, partition: 0, offset: String(i), firstFailure: new Date().toISOString() })),
  });
  const delivery: DeliveryStatus = {
    tenant,
    pipeline: 'api',
    subscription: 0,
    channel: 'webhook',
    destination: 'https://hooks.example',
    last: { at: '2026-12-03T11:00:00.000Z', outcome: 'failed', idempotencyKey: 'k', class: 'parse', count: 2, window: { from: '2026-12-03T10:59:00.000Z', to: '2026-12-03T11:00:00.000Z' }, attempts: 7, status: 503, reason: 'answered 503' },
  };
  await producer.send({ topic: DELIVERIES_TOPIC, acks: -1, messages: [{ key: deliveryStatusKey(tenant, 'api', 0), value: JSON.stringify(delivery) }] });
  await producer.disconnect();
  await eventually('the status shows the new dead letters and the delivery', async () => /notify\[0\]/.test((await tributary(['status', tenant])).stdout));
  const status = await tributary(['status', tenant]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^${tenant}: 3 dead letters in the last hour`, 'm'));
  assert.match(status.stdout, /^api {2}version 1 \(applied \S+\); last apply accepted at \S+$/m);
  assert.match(status.stdout, /^ {2}dead letters, last hour: parse 2, budget 1$/m);
  assert.match(status.stdout, /^ {2}notify\[0\] webhook https:\/\/hooks\.example: failed at 2026-12-03T11:00:00\.000Z \(2 parse dead letters, 7 attempts, answered 503\): answered 503$/m);
  const one = await tributary(['status', tenant, 'api']);
  assert.match(one.stdout, /^in force: {6}version 1/m);
  assert.match(one.stdout, /dead letters, last hour: parse 2, budget 1/);

  const purgeDry = await tributary(['dlq', 'purge', ...scope, '--until', '2026-12-03T10:00:01Z', '--dry-run']);
  assert.equal(purgeDry.code, 0, purgeDry.stderr);
  assert.match(purgeDry.stdout, /partition 0: 2 dead letters \(offsets 0–2\)\nwould purge 2 dead letters/);
  const purge = await tributary(['dlq', 'purge', ...scope, '--until', '2026-12-03T10:00:01Z']);
  assert.equal(purge.code, 0, purge.stderr);
  const left = await tributary(['dlq', 'list', ...scope]);
  assert.equal(left.stdout.trim().split('\n').length, 7, 'the two oldest went');
  assert.match((await tributary(['dlq', 'purge', ...scope])).stderr, /--until is required/);
});
