/**
 * The notifier against real Kafka (and, for the end-to-end case, the real processor and
 * Elasticsearch), delivering to real HTTP receivers on loopback that the platform allowlist
 * admits. One notifier runs for the whole file; every test is its own tenant, created after
 * the notifier started, so each also shows that new tenants are picked up without a restart
 * and that a tenant's subscriptions see only that tenant's dead letters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { encodeEnvelope } from '@tributary/envelope';
import { CompactedTopicView, createKafka, deadLetterMessage, DELIVERIES_TOPIC, ensureTopics, PIPELINES_TOPIC, tenantTopics, type DeadLetterClass } from '@tributary/kafka';
import { startWebhookReceiver, type DeliveryStatus, type WebhookReceiver } from '@tributary/notify';
import { pipelineRecord, type LoggingPipeline } from '@tributary/pipeline';
import { Processor } from '@tributary/processor';
import { eventually, testEngines, uniqueName } from '@tributary/testkit';
import { Notifier } from '../index.js';

const { CompressionTypes } = kafkajs;
const engines = testEngines();
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
const secretsDir = mkdtempSync(join(tmpdir(), 'notifier-secrets-'));
let kafka: Kafka;
let producer: Producer;
let notifier: Notifier;
const receivers: WebhookReceiver[] = [];
const versions = new Map<string, number>();

function manifest(tenant: string, name: string, notify: unknown[], spec: Record<string, unknown> = {}): LoggingPipeline {
  return {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'LoggingPipeline',
    metadata: { name, namespace: tenant },
    spec: { output: { elasticsearch: { index: name } }, deadLetter: { notify }, ...spec },
  } as LoggingPipeline;
}

/** Publishes the next version of a pipeline, as the control plane would once it accepted it. */
async function publish(pipeline: LoggingPipeline): Promise<void> {
  const key = `${pipeline.metadata.namespace}/${pipeline.metadata.name}`;
  const version = (versions.get(key) ?? 0) + 1;
  versions.set(key, version);
  await producer.send({ topic: PIPELINES_TOPIC, acks: -1, messages: [pipelineRecord(pipeline, version, new Date().toISOString())] });
  await eventually(`${key} v${version} in force in the notifier`, () => notifier.pipelines.get(pipeline.metadata.namespace, pipeline.metadata.name)?.version === version);
}

/**
 * This file's tenants, named up front: the notifier follows only theirs (the engines are
 * shared with every other test file), and still discovers each topic only once a test
 * creates it.
 */
const TENANTS = Object.fromEntries(['e2e', 'storm', 'slow', 'other', 'fail', 'reload'].map((t) => [t, uniqueName(`notify-${t}`)])) as Record<'e2e' | 'storm' | 'slow' | 'other' | 'fail' | 'reload', string>;

/** Creates the tenant's topics and waits until the notifier holds its dead-letter topic. */
async function tenantWithTopics(which: keyof typeof TENANTS): Promise<string> {
  const tenant = TENANTS[which];
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 3 }));
  await admin.disconnect();
  await eventually(`the notifier holds dlq.${tenant}`, async () => (await notifier.metrics.metrics()).includes(`tributary_notifier_consumer_lag{tenant="${tenant}",partition="2"}`), 30_000);
  return tenant;
}

interface Letters {
  readonly count: number;
  readonly at: (i: number) => number;
  readonly pipeline?: string;
  readonly class?: (i: number) => DeadLetterClass;
  readonly value?: (i: number) => string;
}

/** Writes dead letters into dlq.<tenant> as the processor does, with the given times. */
async function writeDeadLetters(tenant: string, letters: Letters): Promise<void> {
  for (let start = 0; start < letters.count; start += 5000) {
    const messages: Message[] = [];
    for (let i = start; i < Math.min(letters.count, start + 5000); i++) {
      const cls = letters.class?.(i) ?? 'parse';
      const message = deadLetterMessage(
        { key: Buffer.from(`stream-${i % 7}`), value: Buffer.from(letters.value?.(i) ?? `{"message":"broken ${i}"}`) },
        { class: cls, message: `${cls} failed`, pipeline: letters.pipeline, version: 1, rule: cls === 'parse' ? 0 : undefined, topic: `logs.${tenant}`, partition: i % 3, offset: String(i), firstFailure: new Date(letters.at(i)).toISOString() },
      );
      messages.push({ ...message, timestamp: String(letters.at(i)) });
    }
    await producer.send({ topic: `dlq.${tenant}`, acks: -1, compression: CompressionTypes.LZ4, messages });
  }
}

async function receiver(options: Parameters<typeof startWebhookReceiver>[0] = {}): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(options);
  receivers.push(r);
  return r;
}

/** The first notification of each idempotency key: what a receiver that drops duplicates keeps. */
function distinct(r: WebhookReceiver): NonNullable<WebhookReceiver['received'][number]['notification']>[] {
  const seen = new Map<string, NonNullable<WebhookReceiver['received'][number]['notification']>>();
  for (const { notification, status } of r.received) {
    if (notification && typeof status === 'number' && status < 300 && !seen.has(notification.idempotencyKey)) seen.set(notification.idempotencyKey, notification);
  }
  return [...seen.values()];
}

const total = (r: WebhookReceiver): number => distinct(r).reduce((n, x) => n + x.count, 0);

before(async () => {
  kafka = createKafka({ brokers: engines.brokers, clientId: 'notifier-test' }, logger);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  notifier = new Notifier({
    brokers: engines.brokers,
    groupId: uniqueName('notifier'),
    tenants: Object.values(TENANTS),
    topicRefreshMs: 500,
    allow: ['127.0.0.1/32'],
    secretsDir,
    minWindowMs: 1000,
    // Dead letters are written here with their real time, as the processor writes them; a
    // second allows for a busy machine between the write and the read.
    latenessMs: 1000,
    timeoutMs: 1000,
    initialDelayMs: 100,
    maxDelayMs: 400,
    retryForMs: 20_000,
    commitIntervalMs: 200,
    metricsPort: 0,
    host: '127.0.0.1',
    logger,
  });
  await notifier.start();
});

after(async () => {
  await notifier?.stop();
  await producer?.disconnect();
  await Promise.all(receivers.map((r) => r.close()));
  rmSync(secretsDir, { recursive: true, force: true });
});

test('half the lines fail a regex: one signed notification per group and window, true counts, samples redacted by the pipeline, within window + 10 s', { timeout: 120_000 }, async () => {
  const tenant = await tenantWithTopics('e2e');
  mkdirSync(join(secretsDir, tenant));
  writeFileSync(join(secretsDir, tenant, 'hook-key'), 'whsec-0123456789\n');
  const hook = await receiver({ secret: 'whsec-0123456789' });
  const pipeline = manifest(tenant, 'checkout', [{ webhook: { url: hook.url, secretRef: 'hook-key', windowSeconds: 3 } }], {
    parse: [{ regex: { pattern: '^(?P<level>[A-Z]+) (?P<msg>.*)$' } }],
    transform: [{ redact: { patterns: [{ regex: 'sk_live_[0-9a-z]+' }] } }],
  });
  await publish(pipeline);
  const processor = new Processor({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, groupId: uniqueName('notify-e2e-processor'), topicRefreshMs: 500, tenants: [tenant], logger });
  await processor.start();
  try {
    const LINES = 400;
    const messages = Array.from({ length: LINES }, (_, i) => ({
      key: `stream-${i % 5}`,
      value: encodeEnvelope({
        id: `${tenant}-${i}`,
        time: new Date().toISOString(),
        stream: 'stdout',
        message: i % 2 === 0 ? `INFO paid order ${i}` : `!!! broken order ${i} with key sk_live_${(1e9 + i).toString(36)}`,
        source: { kind: 'sdk', app: 'checkout', host: 'h' },
      }),
    }));
    const sentAt = Date.now();
    await producer.send({ topic: `logs.${tenant}`, acks: -1, messages });
    await eventually(`the receiver has ${LINES / 2} dead letters in notifications`, () => total(hook) === LINES / 2, 3000 + 10_000 + 20_000);
    const arrivedAt = Math.max(...hook.received.map((r) => r.at));
    assert.ok(arrivedAt - sentAt < 3000 + 10_000, `notified ${arrivedAt - sentAt} ms after the lines were sent`);
    const notifications = distinct(hook);
    assert.ok(notifications.length <= 3, `one per window (the lines may straddle two, and one read late joins the next): got ${notifications.length}`);
    for (const received of hook.received) assert.equal(received.verified, true, 'signed with the tenant’s key');
    for (const n of notifications) {
      assert.equal(n.version, 1);
      assert.equal(n.tenant, tenant);
      assert.deepEqual(n.pipeline, { name: 'checkout', version: 1 });
      assert.equal(n.class, 'parse');
      assert.equal(n.rule, 0);
      assert.ok(n.samples.length > 0 && n.samples.length <= 3);
      for (const sample of n.samples) assert.match(sample.message ?? '', /^!!! broken order \d+ with key \S+$/);
      assert.equal(n.ranges[0]?.topic, `dlq.${tenant}`);
      assert.match(n.commands.replay, new RegExp(`^tributary dlq replay --tenant ${tenant} --pipeline checkout --class parse --since \\S+ --until \\S+$`));
    }
    assert.doesNotMatch(hook.received.map((r) => r.body).join('\n'), /sk_live_/, 'the pipeline’s redaction applies to what leaves in an alert');
  } finally {
    await processor.stop();
  }
});

test('a storm of 50 000 dead letters is at most groups × windows notifications, whose counts add up to 50 000', { timeout: 120_000 }, async () => {
  const tenant = await tenantWithTopics('storm');
  const hook = await receiver();
  const WINDOW_MS = 2000;
  await publish(manifest(tenant, 'api', [{ webhook: { url: hook.url, windowSeconds: WINDOW_MS / 1000 } }]));
  const STORM = 50_000;
  // Two groups (parse, schema), timestamped as they are written, as the processor does.
  const times: number[] = [];
  await writeDeadLetters(tenant, { count: STORM, pipeline: 'api', at: (i) => (times[i] ??= Date.now()), class: (i) => (i % 2 === 0 ? 'parse' : 'schema') });
  await eventually('every dead letter of the storm is in a notification', () => total(hook) === STORM, 60_000);
  const windows = new Set(times.map((t) => Math.floor(t / WINDOW_MS))).size;
  const notifications = distinct(hook);
  // A dead letter read after its window closed joins the next one: at most one window more.
  assert.ok(notifications.length <= 2 * (windows + 1), `${notifications.length} notifications for 2 groups over ${windows} windows`);
  assert.equal(hook.received.length, notifications.length, 'nothing sent twice');
  assert.equal(notifications.filter((n) => n.class === 'parse').reduce((n, x) => n + x.count, 0), STORM / 2);
});

test('a receiver that times out and answers 500 gets the notification once it recovers, with the same key; another tenant is notified meanwhile', { timeout: 120_000 }, async () => {
  const [slowTenant, otherTenant] = [await tenantWithTopics('slow'), await tenantWithTopics('other')];
  const slow = await receiver({ answer: (n) => (n <= 2 ? 'hang' : n === 3 ? 500 : 204) });
  const other = await receiver();
  await publish(manifest(slowTenant, 'api', [{ webhook: { url: slow.url, windowSeconds: 1 } }]));
  await publish(manifest(otherTenant, 'api', [{ webhook: { url: other.url, windowSeconds: 1 } }]));
  // Both tenants' dead letters at once: their windows close together.
  await Promise.all([writeDeadLetters(slowTenant, { count: 10, pipeline: 'api', at: () => Date.now() }), writeDeadLetters(otherTenant, { count: 7, pipeline: 'api', at: () => Date.now() })]);
  await eventually('the slow receiver got its first attempt', () => slow.received.length >= 1, 30_000);
  const key = slow.received[0]!.notification!.idempotencyKey;
  await eventually('the slow receiver finally accepted it', () => slow.received.some((r) => r.status === 204), 30_000);
  await eventually('the other tenant got its notifications', () => total(other) === 7);
  await eventually('the slow receiver got every dead letter', () => total(slow) === 10);
  const attempts = slow.received.filter((r) => r.notification?.idempotencyKey === key);
  assert.deepEqual(attempts.map((r) => r.status), ['hang', 'hang', 500, 204], 'two timeouts, a 500, then delivered: every attempt with the same key and body');
  assert.equal(new Set(attempts.map((r) => r.body)).size, 1);
  assert.ok(other.received[0]!.at < attempts[1]!.at, 'the other tenant was notified while the slow receiver was still being retried');
  for (const r of other.received) assert.equal(r.notification?.tenant, otherTenant, 'a tenant’s subscriptions see only its own dead letters');
});

test('a 4xx is not retried and a refused address is never called: each recorded as failed in the tenant’s delivery status', { timeout: 120_000 }, async () => {
  const tenant = await tenantWithTopics('fail');
  const refusing = await receiver({ answer: () => 410 });
  // Loopback, but not the allowlisted 127.0.0.1: as if a name resolved inwards after apply.
  const inside = await receiver({ host: '127.0.0.2' });
  await publish(manifest(tenant, 'gone', [{ webhook: { url: refusing.url, windowSeconds: 1 } }, { slack: { url: inside.url, windowSeconds: 1 } }]));
  const view = new CompactedTopicView({ kafka, topic: DELIVERIES_TOPIC, logger, onChange: () => undefined });
  await view.start();
  try {
    await writeDeadLetters(tenant, { count: 3, pipeline: 'gone', at: () => Date.now() });
    const statusOf = (i: number): DeliveryStatus | undefined => {
      const value = view.entries().get(`${tenant}/gone#${i}`);
      return value ? (JSON.parse(value.toString()) as DeliveryStatus) : undefined;
    };
    await eventually('every dead letter reached the refusing receiver', () => refusing.received.reduce((n, r) => n + (r.notification?.count ?? 0), 0) === 3);
    await eventually('both subscriptions have a delivery status', () => statusOf(0) !== undefined && statusOf(1) !== undefined);
    const last = refusing.received.at(-1)!.notification!;
    await eventually('the status is of the last notification', () => statusOf(0)?.last.idempotencyKey === last.idempotencyKey);
    assert.deepEqual({ ...statusOf(0)!.last, at: undefined, window: undefined }, { at: undefined, window: undefined, outcome: 'failed', idempotencyKey: last.idempotencyKey, class: 'parse', count: last.count, attempts: 1, status: 410, reason: 'answered 410' });
    assert.equal(statusOf(0)!.destination, new URL(refusing.url).origin);
    assert.equal(statusOf(1)!.last.outcome, 'failed');
    assert.equal(statusOf(1)!.channel, 'slack');
    assert.match(statusOf(1)!.last.reason ?? '', /127\.0\.0\.2/);
    assert.equal(new Set(refusing.received.map((r) => r.notification?.idempotencyKey)).size, refusing.received.length, 'a 410 is final: no notification is sent twice');
    assert.equal(inside.received.length, 0, 'no request reached the refused address');
  } finally {
    await view.stop();
  }
});

test('a new version of the pipeline moves its subscription to the new URL at once; a pipeline without one is never notified', { timeout: 120_000 }, async () => {
  const tenant = await tenantWithTopics('reload');
  const first = await receiver();
  const second = await receiver();
  await publish(manifest(tenant, 'api', [{ webhook: { url: first.url, windowSeconds: 1 } }]));
  await publish(manifest(tenant, 'quiet', []));
  await writeDeadLetters(tenant, { count: 5, pipeline: 'api', at: () => Date.now() });
  await eventually('the first URL is notified', () => total(first) === 5);
  await publish(manifest(tenant, 'api', [{ webhook: { url: second.url, windowSeconds: 1 } }]));
  await writeDeadLetters(tenant, { count: 6, pipeline: 'api', at: () => Date.now() });
  await writeDeadLetters(tenant, { count: 4, pipeline: 'quiet', at: () => Date.now() });
  await eventually('the new URL is notified', () => total(second) === 6);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(total(first), 5, 'nothing more to the old URL');
  assert.equal(total(second), 6, 'the quiet pipeline’s dead letters went nowhere');
  const metrics = await notifier.metrics.metrics();
  assert.match(metrics, new RegExp(`tributary_notifier_dead_letters_total\\{tenant="${tenant}",pipeline="quiet",class="parse"\\} 4`));
  const sent = distinct(first).length + distinct(second).length;
  assert.match(metrics, new RegExp(`tributary_notifier_notifications_total\\{tenant="${tenant}",channel="webhook",outcome="sent"\\} ${sent}\n`));
});
