import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeadLetterCause } from '@tributary/kafka';
import { DeadLetterGroups, NOTIFICATION_HEADERS, signNotification, slackMessage, verifyNotification, type DeadLetterEntry } from './index.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const cause = (over: Partial<DeadLetterCause> = {}): DeadLetterCause => ({ class: 'parse', message: 'regex did not match', pipeline: 'checkout-api', version: 3, rule: 0, topic: 'logs.payments', partition: 0, offset: '1', firstFailure: '2026-12-03T10:00:00Z', ...over });
const entry = (i: number, over: Partial<DeadLetterEntry> = {}): DeadLetterEntry => ({ tenant: 'payments', cause: cause(), partition: i % 3, offset: String(1000 + i), at: T0 + i, value: Buffer.from(`{"message":"line ${i}"}`), ...over });

test('a storm is a handful of notifications with the true counts, where they are, and the commands', () => {
  const groups = new DeadLetterGroups({ windowMs: 60_000 });
  for (let i = 0; i < 100_000; i++) groups.add(entry(i, i % 4 === 0 ? { cause: cause({ class: 'schema', rule: undefined, message: 'message is not a string' }) } : {}), T0 + Math.floor(i / 10));
  assert.equal(groups.pending, 100_000);
  assert.deepEqual(groups.due(T0 + 59_999), [], 'the window is still open');
  assert.equal(groups.nextDueAt(), T0 + 60_000);
  const sent = groups.due(T0 + 60_000);
  assert.equal(sent.length, 2);
  assert.equal(sent.reduce((n, s) => n + s.count, 0), 100_000);
  const parse = sent.find((s) => s.class === 'parse')!;
  assert.equal(parse.count, 75_000);
  assert.deepEqual(parse.pipeline, { name: 'checkout-api', version: 3 });
  assert.equal(parse.rule, 0);
  assert.equal(parse.samples.length, 3);
  assert.equal(parse.firstAt, '2026-12-03T10:00:00.001Z');
  assert.equal(parse.lastAt, new Date(T0 + 99_999).toISOString());
  assert.deepEqual(parse.ranges.map((r) => [r.topic, r.partition, r.from, r.to]), [['dlq.payments', 0, '1003', '100999'], ['dlq.payments', 1, '1001', '100997'], ['dlq.payments', 2, '1002', '100998']]);
  assert.equal(parse.commands.replay, 'tributary dlq replay --tenant payments --pipeline checkout-api --class parse --since 2026-12-03T10:00:00.001Z --until 2026-12-03T10:01:39.999Z');
  assert.equal(sent.find((s) => s.class === 'schema')?.rule, null);
  assert.equal(groups.pending, 0);
  assert.equal(groups.nextDueAt(), undefined);
});

test('the idempotency key is the same for the same dead letters in any order, and differs for others', () => {
  const keyOf = (entries: DeadLetterEntry[]): string => {
    const groups = new DeadLetterGroups();
    for (const e of entries) groups.add(e, T0);
    return groups.flush()[0]!.idempotencyKey;
  };
  const entries = Array.from({ length: 50 }, (_, i) => entry(i));
  assert.equal(keyOf(entries), keyOf([...entries].reverse()), 're-read after a crash, in another order: same key');
  assert.notEqual(keyOf(entries), keyOf(entries.slice(1)));
  assert.notEqual(keyOf(entries), keyOf(entries.map((e) => ({ ...e, tenant: 'other' }))));
});

test('a group after its window starts a new one', () => {
  const groups = new DeadLetterGroups({ windowMs: 1000 });
  groups.add(entry(1), T0);
  assert.equal(groups.due(T0 + 1000).length, 1);
  groups.add(entry(2), T0 + 1500);
  assert.deepEqual(groups.due(T0 + 2000), []);
  const [next] = groups.due(T0 + 2500);
  assert.equal(next?.count, 1);
  assert.deepEqual(next?.ranges, [{ topic: 'dlq.payments', partition: 2, from: '1002', to: '1002' }]);
});

test('samples and the message are redacted whole, then cut: a secret never leaves, not even half of one', () => {
  const secret = 'sk_live_0123456789abcdef';
  const value = Buffer.from(`${'x'.repeat(990)}${secret} ${'y'.repeat(100)}`);
  const groups = new DeadLetterGroups({ sampleChars: 1000, redact: (_e, text) => text.replaceAll(/sk_live_[0-9a-z]+/g, '[REDACTED]') });
  groups.add(entry(1, { value, cause: cause({ message: `bad token ${secret}` }) }), T0);
  groups.add(entry(2, { value: null }), T0);
  const [n] = groups.flush();
  assert.ok(n);
  assert.equal(n.samples[0]?.truncated, true);
  assert.equal(n.samples[0]?.value, `${'x'.repeat(990)}[REDACTED]…`);
  assert.doesNotMatch(JSON.stringify(n), /sk_live|sk_li/);
  assert.equal(n.message, 'bad token [REDACTED]');
  assert.deepEqual(n.samples[1], { partition: 2, offset: '1002', value: null, truncated: false });
});

test('a delivery is signed over its timestamp and body; the receiver’s check refuses another secret, another body and an old delivery', () => {
  const body = JSON.stringify({ version: 1, count: 3 });
  const now = Date.now();
  const timestamp = Math.floor(now / 1000);
  const signature = signNotification('s3cret', timestamp, body);
  assert.match(signature, /^v1=[0-9a-f]{64}$/);
  const headers = { signature, timestamp: String(timestamp) };
  assert.equal(verifyNotification('s3cret', headers, body, { now }), true);
  assert.equal(verifyNotification('other', headers, body, { now }), false);
  assert.equal(verifyNotification('s3cret', headers, `${body} `, { now }), false);
  assert.equal(verifyNotification('s3cret', headers, body, { now: now + 301_000 }), false, 'replayed five minutes later');
  assert.equal(verifyNotification('s3cret', { signature: undefined, timestamp: String(timestamp) }, body, { now }), false);
  assert.equal(NOTIFICATION_HEADERS.signature, 'x-tributary-signature');
});

test('the Slack message says what, how many, a sample and the commands, with Slack’s characters escaped', () => {
  const groups = new DeadLetterGroups();
  for (let i = 0; i < 1234; i++) groups.add(entry(i, { value: Buffer.from('<b>&</b>'), cause: cause({ message: 'expected "}" at <eof>' }) }), T0);
  const { text } = slackMessage(groups.flush()[0]!);
  assert.match(text, /\*payments\/checkout-api v3\*: 1,234 dead letters \(parse, step 0\)/);
  assert.match(text, /expected "}" at &lt;eof&gt;/);
  assert.match(text, /&lt;b&gt;&amp;&lt;\/b&gt;/);
  assert.match(text, /Replay after a fix: `tributary dlq replay --tenant payments/);
});
