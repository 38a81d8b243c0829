/**
 * `tributary notifier` as an SRE runs it, under its worst fault: a backlog read at start is
 * exactly one notification per group and window; `kill -9` in the middle of a window, then
 * a restart, reports every dead letter (the counts of the distinct notifications add up)
 * and sends nothing twice under another idempotency key; SIGTERM exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import kafkajs, { type Message } from 'kafkajs';
import { pino } from 'pino';
import { createKafka, deadLetterMessage, ensureTopics, PIPELINES_TOPIC, tenantTopics } from '@tributary/kafka';
import { startWebhookReceiver, type DeadLetterNotification, type WebhookReceiver } from '@tributary/notify';
import { pipelineRecord, type LoggingPipeline } from '@tributary/pipeline';
import { eventually, testEngines, uniqueName } from '@tributary/testkit';

const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const WINDOW_MS = 4000;

function distinct(r: WebhookReceiver): DeadLetterNotification[] {
  const seen = new Map<string, DeadLetterNotification>();
  for (const { notification } of r.received) if (notification && !seen.has(notification.idempotencyKey)) seen.set(notification.idempotencyKey, notification);
  return [...seen.values()];
}

test('kill -9 of the notifier mid-window: after a restart every dead letter is reported, a duplicate only ever under the same key', { timeout: 300_000 }, async (t) => {
  const engines = testEngines();
  const tenant = uniqueName('notify-crash');
  const group = uniqueName('notify-crash-group');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'notifier-crash-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 3 }));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.after(() => producer.disconnect());
  const backlogHook = await startWebhookReceiver();
  const liveHook = await startWebhookReceiver();
  t.after(() => Promise.all([backlogHook.close(), liveHook.close()]));

  const publish = async (url: string, version: number): Promise<void> => {
    const manifest: LoggingPipeline = {
      apiVersion: 'tributary.dev/v1alpha1',
      kind: 'LoggingPipeline',
      metadata: { name: 'api', namespace: tenant },
      spec: { output: { elasticsearch: { index: 'api' } }, deadLetter: { notify: [{ webhook: { url, windowSeconds: WINDOW_MS / 1000 } }] } },
    };
    await producer.send({ topic: PIPELINES_TOPIC, acks: -1, messages: [pipelineRecord(manifest, version, new Date().toISOString())] });
  };
  let offset = 0;
  const write = async (times: readonly number[]): Promise<void> => {
    const messages: Message[] = times.map((at) => {
      const i = offset++;
      const cls = i % 2 === 0 ? 'parse' : 'schema';
      const letter = deadLetterMessage(
        { key: Buffer.from(`stream-${i % 5}`), value: Buffer.from(`{"message":"broken ${i}"}`) },
        { class: cls, message: `${cls} failed`, pipeline: 'api', version: 1, rule: cls === 'parse' ? 0 : undefined, topic: `logs.${tenant}`, partition: 0, offset: String(i), firstFailure: new Date(at).toISOString() },
      );
      return { ...letter, timestamp: String(at) };
    });
    for (let i = 0; i < messages.length; i += 5000) {
      await producer.send({ topic: `dlq.${tenant}`, acks: -1, compression: kafkajs.CompressionTypes.LZ4, messages: messages.slice(i, i + 5000) });
    }
  };

  let output = '';
  const start = (): ChildProcess => {
    const child = spawn(process.execPath, [bin, 'notifier', '--group', group, '--tenants', tenant, '--min-window-seconds', '1', '--metrics-port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, KAFKA_BROKERS: engines.brokers.join(','), TRIBUTARY_NOTIFY_ALLOW: '127.0.0.1/32', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    t.after(() => void child.kill('SIGKILL'));
    return child;
  };

  // 1. A backlog written while no notifier runs, two groups over two past windows: read at
  //    start, it is exactly four notifications.
  await publish(backlogHook.url, 1);
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  const BACKLOG = 20_000;
  await write(Array.from({ length: BACKLOG }, (_, i) => minute + (i % 4 < 2 ? 100 : WINDOW_MS + 100) + (i % 997)));
  let notifier = start();
  await eventually(`the backlog is in notifications (output so far: ${output.slice(-2000)})`, () => distinct(backlogHook).reduce((n, x) => n + x.count, 0) === BACKLOG, 90_000);
  assert.equal(distinct(backlogHook).length, 4, 'two groups × two windows');
  assert.equal(backlogHook.received.length, 4, 'each once');

  // 2. Live dead letters, timestamped as written; the notifier killed in the middle of a window.
  await publish(liveHook.url, 2);
  const live: number[] = [];
  const writing = (async () => {
    const until = Date.now() + 3 * WINDOW_MS;
    while (Date.now() < until) {
      const now = Date.now();
      const batch = Array.from({ length: 50 }, () => now);
      await write(batch);
      live.push(...batch);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await eventually('a live window was delivered before the kill', () => liveHook.received.length > 0, 30_000);
  // Mid-window: half a window after a boundary.
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS - (Date.now() % WINDOW_MS) + WINDOW_MS / 2));
  const beforeKill = liveHook.received.length;
  notifier.kill('SIGKILL');
  await new Promise((resolve) => notifier.once('exit', resolve));
  notifier = start();
  await writing;
  const expected = live.length;
  await eventually(`all ${expected} live dead letters reported`, () => distinct(liveHook).reduce((n, x) => n + x.count, 0) === expected, 120_000);
  const notifications = distinct(liveHook);
  const byWindow = new Map<string, number>();
  for (const n of notifications) byWindow.set(`${n.class}@${n.window.from}`, (byWindow.get(`${n.class}@${n.window.from}`) ?? 0) + 1);
  for (const [window, keys] of byWindow) assert.equal(keys, 1, `${window}: one idempotency key per group and window, whatever was re-sent`);
  assert.ok(beforeKill < liveHook.received.length, 'notifications came after the restart too');

  // 3. SIGTERM: a clean stop.
  const exited = new Promise<number | null>((resolve) => notifier.once('exit', (code) => resolve(code)));
  notifier.kill('SIGTERM');
  assert.equal(await exited, 0, output.slice(-2000));
});
