import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AddressPolicy, DeadLetterGroups, deliver, startWebhookReceiver, NOTIFICATION_HEADERS, SlackChannel, verifyNotification, WebhookChannel, type DeadLetterNotification } from './index.js';

/** A real receiver on loopback that answers as `answer` says, request by request. */
const receiver = (answer: (n: number) => number | 'hang') => startWebhookReceiver({ answer });

function notification(): DeadLetterNotification {
  const groups = new DeadLetterGroups();
  for (let i = 0; i < 5; i++) {
    groups.add({ tenant: 'payments', cause: { class: 'parse', message: 'regex did not match', pipeline: 'checkout-api', version: 2, rule: 1, topic: 'logs.payments', partition: 0, offset: String(i), firstFailure: '2026-12-03T10:00:00Z' }, partition: 0, offset: String(40 + i), at: Date.parse('2026-12-03T10:00:00Z') + i, value: Buffer.from('{"message":"x"}') });
  }
  return groups.flush()[0]!;
}

const loopback = new AddressPolicy(['127.0.0.1']);
const fast = { initialDelayMs: 20, maxDelayMs: 50 };

test('a webhook delivery is the notification as JSON, signed over timestamp and body, with its idempotency key', async () => {
  const r = await receiver(() => 200);
  try {
    const n = notification();
    const delivery = await deliver(new WebhookChannel({ url: r.url, policy: loopback, secret: 'whsec-payments' }), n, fast);
    assert.deepEqual([delivery.delivered, delivery.attempts], [true, 1]);
    const [got] = r.received;
    assert.ok(got);
    assert.deepEqual(JSON.parse(got.body), n);
    assert.equal(got.headers[NOTIFICATION_HEADERS.idempotencyKey], n.idempotencyKey);
    assert.equal(verifyNotification('whsec-payments', { signature: got.headers[NOTIFICATION_HEADERS.signature] as string, timestamp: got.headers[NOTIFICATION_HEADERS.timestamp] as string }, got.body), true);
    assert.equal(verifyNotification('another-secret', { signature: got.headers[NOTIFICATION_HEADERS.signature] as string, timestamp: got.headers[NOTIFICATION_HEADERS.timestamp] as string }, got.body), false);
  } finally {
    await r.close();
  }
});

test('500s, 429 and a hung receiver are retried with the same key until it answers; other 4xx and redirects are not', async () => {
  const flaky = await receiver((n) => (n === 1 ? 500 : n === 2 ? 429 : n === 3 ? 'hang' : 204));
  try {
    const retries: number[] = [];
    const delivery = await deliver(new WebhookChannel({ url: flaky.url, policy: loopback, timeoutMs: 300 }), notification(), { ...fast, onRetry: ({ attempt }) => retries.push(attempt) });
    assert.deepEqual([delivery.delivered, delivery.attempts, retries], [true, 4, [1, 2, 3]]);
    assert.equal(new Set(flaky.received.map((r) => r.headers[NOTIFICATION_HEADERS.idempotencyKey])).size, 1, 'one key across the retries');
    assert.equal(new Set(flaky.received.map((r) => r.body)).size, 1, 'the same body');
  } finally {
    await flaky.close();
  }
  for (const status of [404, 410, 302]) {
    const refusing = await receiver(() => status);
    try {
      const delivery = await deliver(new WebhookChannel({ url: refusing.url, policy: loopback }), notification(), fast);
      assert.deepEqual([delivery.delivered, delivery.attempts, delivery.last.ok ? 0 : delivery.last.status], [false, 1, status]);
      if (status === 302) assert.match(delivery.last.ok ? '' : delivery.last.reason, /redirects are not followed/);
    } finally {
      await refusing.close();
    }
  }
});

test('a receiver that answers a byte at a time is cut off at the attempt’s limit, not held for ever', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const drip = setInterval(() => res.write('.'), 50);
    res.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const started = Date.now();
    const attempt = await new WebhookChannel({ url: `http://127.0.0.1:${port}/hook`, policy: loopback, timeoutMs: 400 }).send(notification());
    assert.deepEqual(attempt, { ok: false, reason: 'no whole answer within 400 ms', retriable: true });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a receiver that stays down is given up after the retry period, and the failure says why', async () => {
  const down = await receiver(() => 503);
  try {
    const delivery = await deliver(new WebhookChannel({ url: down.url, policy: loopback }), notification(), { ...fast, retryForMs: 300 });
    assert.equal(delivery.delivered, false);
    assert.ok(delivery.attempts >= 3, `${delivery.attempts} attempts`);
    assert.deepEqual(delivery.last, { ok: false, status: 503, reason: 'answered 503', retriable: true });
  } finally {
    await down.close();
  }
});

test('an address the policy refuses is never called, at any attempt', async () => {
  const r = await receiver(() => 200);
  try {
    const delivery = await deliver(new WebhookChannel({ url: r.url, policy: new AddressPolicy() }), notification(), fast);
    assert.deepEqual([delivery.delivered, delivery.attempts], [false, 1]);
    assert.match(delivery.last.ok ? '' : delivery.last.reason, /loopback/);
    const byName = await deliver(new WebhookChannel({ url: r.url.replace('127.0.0.1', 'localhost'), policy: new AddressPolicy() }), notification(), fast);
    assert.equal(byName.delivered, false);
    assert.equal(r.received.length, 0);
  } finally {
    await r.close();
  }
});

test('a Slack channel posts the Slack message', async () => {
  const r = await receiver(() => 200);
  try {
    assert.equal((await deliver(new SlackChannel({ url: r.url, policy: loopback }), notification(), fast)).delivered, true);
    const { text } = JSON.parse(r.received[0]!.body) as { text: string };
    assert.match(text, /payments\/checkout-api v2\*: 5 dead letters \(parse, step 1\)/);
  } finally {
    await r.close();
  }
});
