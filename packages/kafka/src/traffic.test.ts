import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrafficRecord, TrafficBook, TrafficRecorder, TRAFFIC_BUCKET_MS, TRAFFIC_WINDOW_MS, type TrafficRecord } from './traffic.js';

const minute = TRAFFIC_BUCKET_MS;
const t0 = Date.parse('2026-12-03T10:00:00Z');

function feed(book: TrafficBook, recorder: TrafficRecorder, now: number): number {
  const messages = recorder.drain(now);
  for (const m of messages) assert.ok(book.update(String(m.key), Buffer.from(String(m.value))), 'the recorder writes what the book reads');
  return messages.length;
}

test('every settled record counts in `in` and in its outcome, by minute, per pipeline', () => {
  const recorder = new TrafficRecorder('p-1');
  recorder.count('team-a', 'checkout', 'indexed', t0 + 1000);
  recorder.count('team-a', 'checkout', 'duplicate', t0 + 2000);
  recorder.count('team-a', 'checkout', 'dropped', t0 + minute + 5);
  recorder.count('team-a', 'checkout', 'dead_lettered', t0 + minute + 6);
  recorder.count('team-a', null, 'dead_lettered', t0 + 7);
  recorder.count('team-b', 'checkout', 'indexed', t0 + 8);
  const messages = recorder.drain(t0 + 2 * minute);
  assert.deepEqual(messages.map((m) => m.key).sort(), ['team-a/@p-1', 'team-a/checkout@p-1', 'team-b/checkout@p-1']);
  const checkout = parseTrafficRecord(String(messages.find((m) => m.key === 'team-a/checkout@p-1')?.value)) as TrafficRecord;
  assert.deepEqual(checkout, {
    tenant: 'team-a',
    pipeline: 'checkout',
    processor: 'p-1',
    buckets: [
      { start: t0, in: 2, indexed: 2, dropped: 0, deadLettered: 0 },
      { start: t0 + minute, in: 2, indexed: 0, dropped: 1, deadLettered: 1 },
    ],
  });
  assert.deepEqual(recorder.drain(t0 + 2 * minute), [], 'nothing changed since: nothing to publish');
});

test('the book sums every processor over the last hour, per tenant and in all, and forgets what left the window', () => {
  const book = new TrafficBook();
  const one = new TrafficRecorder('p-1');
  const two = new TrafficRecorder('p-2');
  one.count('team-a', 'checkout', 'indexed', t0);
  two.count('team-a', 'checkout', 'indexed', t0 + 10 * minute);
  two.count('team-a', 'checkout', 'dropped', t0 + 10 * minute);
  two.count('team-b', 'billing', 'dead_lettered', t0 + 10 * minute);
  feed(book, one, t0 + 11 * minute);
  feed(book, two, t0 + 11 * minute);
  assert.deepEqual(book.lastHour('team-a', t0 + 11 * minute), new Map([['checkout', { in: 3, indexed: 2, dropped: 1, deadLettered: 0 }]]));
  assert.deepEqual(book.tenants(t0 + 11 * minute), new Map([['team-a', { in: 3, indexed: 2, dropped: 1, deadLettered: 0 }], ['team-b', { in: 1, indexed: 0, dropped: 0, deadLettered: 1 }]]));
  // An hour after p-1's only minute: it is out of the window; p-2's minute is still in.
  const later = t0 + TRAFFIC_WINDOW_MS + minute;
  assert.deepEqual(book.lastHour('team-a', later), new Map([['checkout', { in: 2, indexed: 1, dropped: 1, deadLettered: 0 }]]));
  // The recorder forgets too: counts after the hour start again from what is in the window.
  one.count('team-a', 'checkout', 'indexed', later);
  const [message] = one.drain(later);
  assert.deepEqual(parseTrafficRecord(String(message?.value))?.buckets, [{ start: later - (later % minute), in: 1, indexed: 1, dropped: 0, deadLettered: 0 }]);
  assert.ok(book.update('team-a/checkout@p-2', null), 'a tombstone');
  assert.deepEqual(book.lastHour('team-a', later), new Map());
});

test('a record that is not a traffic record is refused, whatever it holds', () => {
  const book = new TrafficBook();
  for (const value of ['', 'null', '[]', '{"tenant":"a"}', '{"tenant":"a","pipeline":1,"processor":"p","buckets":[]}', '{"tenant":"a","pipeline":null,"processor":"p","buckets":[{"start":-1,"in":0,"indexed":0,"dropped":0,"deadLettered":0}]}', '{"tenant":"a","pipeline":null,"processor":"p","buckets":[{"start":0,"in":"1","indexed":0,"dropped":0,"deadLettered":0}]}']) {
    assert.equal(book.update('k', Buffer.from(value)), false, value);
  }
  assert.deepEqual(book.tenants(), new Map());
});

test('keys whose publish failed come again with the next drain', () => {
  const recorder = new TrafficRecorder('p-1');
  recorder.count('team-a', 'checkout', 'indexed', t0);
  const [lost] = recorder.drain(t0 + 1);
  assert.deepEqual(recorder.drain(t0 + 2), []);
  recorder.retry([String(lost?.key), 'team-z/never@p-1']);
  assert.deepEqual(recorder.drain(t0 + 3).map((m) => m.key), ['team-a/checkout@p-1']);
});
