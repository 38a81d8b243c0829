import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeadLetterCause } from '@tributary/kafka';
import { DeadLetterGroups, NOTIFICATION_HEADERS, signNotification, slackMessage, verifyNotification, type DeadLetterEntry } from './index.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const cause = (over: Partial<DeadLetterCause> = {}): DeadLetterCause => ({ class: 'parse', message: 'regex did not match', pipeline: 'checkout-api', version: 3, rule: 0, topic: 'logs.payments', partition: 0, offset: '1', firstFailure: '2026-12-03T10:00:00Z', ...over });
const entry = (i: number, over: Partial<DeadLetterEntry> = {}): DeadLetterEntry => ({ tenant: 'payments', cause: cause(), partition: i % 3, offset: String(1000 + i), at: T0 + i, value: Buffer.from(`{"message":"line ${i}"}`), ...over });

test('a storm is a handful of notifications with the true counts, where they are, and the commands', () => {
  const groups = new DeadLetterGroups({ windowMs: 60_000 });
  // 100 000 dead letters over 100 s: two clock-aligned minutes.
  for (let i = 0; i < 100_000; i++) groups.add(entry(i, { at: T0 + i, ...(i % 4 === 0 ? { cause: cause({ class: 'schema', rule: undefined, message: 'message is not a string' }) } : {}) }));
  assert.equal(groups.pending, 100_000);
  assert.deepEqual(groups.close(T0 + 59_999), [], 'the first window is still open');
  assert.equal(groups.nextEnd(), T0 + 60_000);
  const first = groups.close(T0 + 60_000);
  assert.equal(first.length, 2, 'one per group');
  assert.equal(first.reduce((n, s) => n + s.count, 0), 60_000);
  const parse = first.find((s) => s.class === 'parse')!;
  assert.equal(parse.count, 45_000);
  assert.deepEqual(parse.pipeline, { name: 'checkout-api', version: 3 });
  assert.equal(parse.rule, 0);
  assert.equal(parse.samples.length, 3);
  assert.deepEqual(parse.window, { from: '2026-12-03T10:00:00.000Z', to: '2026-12-03T10:01:00.000Z' });
  assert.equal(parse.firstAt, '2026-12-03T10:00:00.001Z');
  assert.equal(parse.lastAt, '2026-12-03T10:00:59.999Z');
  assert.deepEqual(parse.ranges.map((r) => [r.topic, r.partition, r.from, r.to]), [['dlq.payments', 0, '1003', '60997'], ['dlq.payments', 1, '1001', '60998'], ['dlq.payments', 2, '1002', '60999']]);
  assert.equal(parse.commands.replay, 'tributary dlq replay --tenant payments --pipeline checkout-api --class parse --since 2026-12-03T10:00:00.001Z --until 2026-12-03T10:00:59.999Z');
  assert.equal(first.find((s) => s.class === 'schema')?.rule, null);
  assert.equal(groups.lowestOffset(0), 61_000n, 'where reading starts again to rebuild what is still open');
  const second = groups.close(T0 + 120_000);
  assert.equal(second.reduce((n, s) => n + s.count, 0), 40_000);
  assert.equal(groups.pending, 0);
  assert.equal(groups.nextEnd(), undefined);
  assert.equal(groups.lowestOffset(0), undefined);
});

test('the idempotency key is the group and its window: the same after a re-read in any order or of a part, another for another window, group or subscription', () => {
  const keyOf = (entries: DeadLetterEntry[], subscription = 'payments/checkout-api#0'): string => {
    const groups = new DeadLetterGroups({ subscription });
    for (const e of entries) groups.add(e);
    const [only, ...rest] = groups.flush();
    assert.equal(rest.length, 0);
    return only!.idempotencyKey;
  };
  const entries = Array.from({ length: 50 }, (_, i) => entry(i));
  assert.equal(keyOf(entries), keyOf([...entries].reverse()), 're-read after a crash, in another order: same key');
  assert.equal(keyOf(entries), keyOf(entries.slice(20)), 'the part read again after a crash: same key, so the receiver drops it');
  assert.notEqual(keyOf(entries), keyOf(entries.map((e) => ({ ...e, at: e.at + 60_000 }))), 'the next window');
  assert.notEqual(keyOf(entries), keyOf(entries.map((e) => ({ ...e, tenant: 'other' }))));
  assert.notEqual(keyOf(entries), keyOf(entries, 'payments/checkout-api#1'));
});

test('a dead letter later than its closed window joins the first open window: counted late, not lost', () => {
  const groups = new DeadLetterGroups({ windowMs: 1000 });
  groups.add(entry(1, { at: T0 + 100 }));
  assert.equal(groups.close(T0 + 1000).length, 1);
  groups.add(entry(2, { at: T0 + 900 }));
  assert.deepEqual(groups.close(T0 + 1999), []);
  const [late] = groups.close(T0 + 2000);
  assert.equal(late?.count, 1);
  assert.deepEqual(late?.window, { from: new Date(T0 + 1000).toISOString(), to: new Date(T0 + 2000).toISOString() });
  assert.deepEqual(late?.ranges, [{ topic: 'dlq.payments', partition: 2, from: '1002', to: '1002' }]);
});

test('samples and the message are redacted whole, then cut: a secret never leaves, not even half of one', () => {
  const secret = 'sk_live_0123456789abcdef';
  const value = Buffer.from(`${'x'.repeat(990)}${secret} ${'y'.repeat(100)}`);
  const groups = new DeadLetterGroups({ sampleChars: 1000, redact: (_e, text) => text.replaceAll(/sk_live_[0-9a-z]+/g, '[REDACTED]') });
  groups.add(entry(1, { value, cause: cause({ message: `bad token ${secret}` }) }));
  groups.add(entry(2, { value: null }));
  const [n] = groups.flush();
  assert.ok(n);
  assert.equal(n.samples[0]?.truncated, true);
  assert.equal(n.samples[0]?.value, `${'x'.repeat(990)}[REDACTED]…`);
  assert.doesNotMatch(JSON.stringify(n), /sk_live|sk_li/);
  assert.equal(n.message, 'bad token [REDACTED]');
  assert.deepEqual(n.samples[1], { partition: 2, offset: '1002', value: null, truncated: false });
});

test('a sample of a JSON envelope also carries its log line, redacted', () => {
  const groups = new DeadLetterGroups({ redact: (_e, text) => text.replaceAll(/sk_live_[0-9a-z]+/g, '[REDACTED]') });
  groups.add(entry(1, { value: Buffer.from(JSON.stringify({ id: 'f2-x', time: '2026-12-03T10:00:00Z', stream: 'stdout', message: '{"token":"sk_live_abc","msg":"tru' })) }));
  groups.add(entry(2, { value: Buffer.from([0xff, 0x00, 0x7b]) }));
  const [n] = groups.flush();
  assert.equal(n?.samples[0]?.message, '{"token":"[REDACTED]","msg":"tru');
  assert.equal(n?.samples[1]?.message, undefined, 'not an envelope: the value only');
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
  for (let i = 0; i < 1234; i++) groups.add(entry(i, { value: Buffer.from('<b>&</b>'), cause: cause({ message: 'expected "}" at <eof>' }) }));
  const { text } = slackMessage(groups.flush()[0]!);
  assert.match(text, /\*payments\/checkout-api v3\*: 1,234 dead letters \(parse, step 0\)/);
  assert.match(text, /expected "}" at &lt;eof&gt;/);
  assert.match(text, /&lt;b&gt;&amp;&lt;\/b&gt;/);
  assert.match(text, /Replay after a fix: `tributary dlq replay --tenant payments/);
});
