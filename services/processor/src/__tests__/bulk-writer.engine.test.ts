import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { testEngines, uniqueName } from '@tributary/testkit';
import { BulkWriter, ProcessorMetrics, type WriteOutcome } from '../index.js';

const logger = pino({ level: 'silent' });
const es = createElasticsearch({ url: testEngines().elasticsearchUrl });
const indices: string[] = [];
after(async () => {
  if (indices.length > 0) await es.indices.delete({ index: indices, ignore_unavailable: true }).catch(() => undefined);
  await es.close();
});

function collect(): { outcomes: Array<{ id: string; outcome: WriteOutcome }>; done: (id: string) => (outcome: WriteOutcome) => void } {
  const outcomes: Array<{ id: string; outcome: WriteOutcome }> = [];
  return { outcomes, done: (id) => (outcome) => void outcomes.push({ id, outcome }) };
}

test('documents are stored once, a re-sent _id is a duplicate, a mapping conflict is refused with the reason', async () => {
  const index = uniqueName('logs.writer') + '.default';
  indices.push(index);
  const writer = new BulkWriter({ elasticsearch: es, lingerMs: 5, backoff: { initialMs: 50, maxMs: 500 }, logger });
  const { outcomes, done } = collect();
  const write = (id: string, body: unknown): void => writer.write({ tenant: 'a', item: { index, id, body: JSON.stringify(body), op: 'create' }, active: () => true, done: done(id) });
  write('1', { x: { a: 1 } });
  assert.equal(await writer.idle(10_000), true);
  write('1', { x: { a: 1 } });
  write('2', { x: 'a string where an object is mapped' });
  assert.equal(await writer.idle(10_000), true);
  const byId = (id: string): WriteOutcome[] => outcomes.filter((o) => o.id === id).map((o) => o.outcome);
  assert.deepEqual(byId('1'), [{ status: 'stored', duplicate: false }, { status: 'stored', duplicate: true }]);
  const [refused] = byId('2');
  assert.equal(refused?.status, 'refused');
  assert.equal(refused?.status === 'refused' && refused.class, 'mapping');
  assert.match(refused?.status === 'refused' ? refused.reason : '', /\[x\]/);
  await es.indices.refresh({ index });
  assert.equal((await es.count({ index })).count, 1);
  writer.stop();
});

test('a tenant with a deep backlog does not hold back another tenant’s document', async () => {
  const index = uniqueName('logs.fair') + '.default';
  indices.push(index);
  // One bulk of 10 at a time: the flood's 200 documents need 20 bulks.
  const writer = new BulkWriter({ elasticsearch: es, lingerMs: 0, maxBulkDocuments: 10, maxInFlightBulks: 1, backoff: { initialMs: 50, maxMs: 500 }, logger });
  const { outcomes, done } = collect();
  // The flood's documents are large, so its bulks take longer than the trickle's one-line
  // express bulk even on a busy machine (with tiny ones, the two raced: CI saw the express
  // bulk finish after the flood's first two).
  const heavy = JSON.stringify({ m: 'flood', padding: 'x'.repeat(50_000) });
  for (let i = 0; i < 200; i++) writer.write({ tenant: 'flood', item: { index, id: `f${i}`, body: heavy, op: 'create' }, active: () => true, done: done(`f${i}`) });
  writer.write({ tenant: 'trickle', item: { index, id: 't', body: '{"m":"trickle"}', op: 'create' }, active: () => true, done: done('t') });
  assert.equal(await writer.idle(30_000), true);
  const position = outcomes.findIndex((o) => o.id === 't');
  assert.equal(outcomes.length, 201);
  // The flood's first bulk holds the only slot; the trickle, with nothing in flight, goes in
  // the express bulk beside it instead of waiting for that slot (which would settle it 3rd at best).
  assert.ok(position >= 0 && position <= 1, `the trickle's document was settled first or second (position ${position} of 201)`);
  assert.ok(outcomes.every((o) => o.outcome.status === 'stored'));
  writer.stop();
});

test('with Elasticsearch unreachable, documents wait and are retried with backoff, never dropped, until no longer wanted', async () => {
  const unreachable = createElasticsearch({ url: 'http://127.0.0.1:1', maxRetries: 0, requestTimeout: 500 });
  const metrics = new ProcessorMetrics();
  const writer = new BulkWriter({ elasticsearch: unreachable, lingerMs: 0, backoff: { initialMs: 20, maxMs: 100 }, logger, metrics });
  const { outcomes, done } = collect();
  let wanted = true;
  for (let i = 0; i < 5; i++) writer.write({ tenant: 'a', item: { index: 'logs.a.default', id: `u${i}`, body: '{}', op: 'create' }, active: () => wanted, done: done(`u${i}`) });
  assert.equal(await writer.idle(1_000), false, 'still pending while Elasticsearch is away');
  assert.equal(outcomes.length, 0, 'nothing settled: nothing dropped, nothing stored');
  assert.equal(writer.pending, 5);
  const retries = (await metrics.retries.get()).values.find((v) => v.labels['kind'] === 'bulk')?.value ?? 0;
  assert.ok(retries >= 3, `retried ${retries} times`);
  wanted = false;
  writer.abandonInactive();
  assert.equal(await writer.idle(2_000), true);
  assert.deepEqual(
    outcomes.map((o) => o.outcome.status),
    ['abandoned', 'abandoned', 'abandoned', 'abandoned', 'abandoned'],
  );
  writer.stop();
  await unreachable.close();
});
