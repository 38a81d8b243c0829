/**
 * Dead letters without a webhook, against real Kafka, Elasticsearch and the processor: a
 * tenant lists them, follows them live, fixes its manifest and replays them into
 * Elasticsearch with their original ids, replays again without storing anything twice, and
 * purges; another tenant's token can do none of it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka, REPLAY_HEADERS, type StoredDeadLetter } from '@tributary/kafka';
import { Processor } from '@tributary/processor';
import { eventually, testEngines, uniqueName } from '@tributary/testkit';
import { ControlPlane } from '../index.js';

const engines = testEngines();
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
const tenant = uniqueName('dlq-api');
const other = uniqueName('dlq-other');
const tokens = { [tenant]: 'token-of-the-dlq-tenant-0123456', [other]: 'token-of-the-other-tenant-012345' };
const es = createElasticsearch({ url: engines.elasticsearchUrl });
let service: ControlPlane;
let processor: Processor;
let producer: Producer;

const manifest = (pattern: string): string => `apiVersion: tributary.dev/v1alpha1
kind: LoggingPipeline
metadata: { name: api, namespace: ${tenant} }
spec:
  parse:
    - regex: { pattern: '${pattern}' }
  output: { elasticsearch: { index: api } }
`;
const STRICT = '^(?P<level>[A-Z]+) (?P<msg>.*)$';
const FIXED = '^(?P<level>[A-Za-z]+) (?P<msg>.*)$';

const request = (method: 'GET' | 'POST' | 'PUT', url: string, { token = tokens[tenant], body, type = 'application/json' }: { token?: string | undefined; body?: unknown; type?: string } = {}) =>
  service.http.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

async function apply(pattern: string): Promise<void> {
  const response = await request('PUT', `/v1/tenants/${tenant}/pipelines/api`, { body: manifest(pattern), type: 'application/yaml' });
  assert.ok(response.statusCode < 300, response.body);
  const { version } = response.json() as { version: number };
  await eventually(`v${version} in force in the processor`, () => processor.pipelines.get(tenant, 'api')?.version === version);
}

async function send(lines: Array<{ id: string; message: string }>): Promise<void> {
  await producer.send({
    topic: `logs.${tenant}`,
    acks: -1,
    messages: lines.map(({ id, message }) => ({ key: 'app-1', value: encodeEnvelope({ id, time: '2026-12-03T10:00:00Z', stream: 'stdout', message, source: { kind: 'sdk', app: 'api', host: 'h' } }) })),
  });
}

async function deadLetters(query = ''): Promise<{ deadLetters: StoredDeadLetter[]; complete: boolean }> {
  const response = await request('GET', `/v1/tenants/${tenant}/deadletters${query}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

async function documents(): Promise<string[]> {
  await es.indices.refresh({ index: `logs.${tenant}.api` }).catch(() => undefined);
  const found = await es.search({ index: `logs.${tenant}.api`, size: 1000, _source: false }).catch(() => ({ hits: { hits: [] as Array<{ _id?: string }> } }));
  return found.hits.hits.map((h) => String(h._id)).sort();
}

before(async () => {
  service = new ControlPlane({
    brokers: engines.brokers,
    elasticsearchUrl: engines.elasticsearchUrl,
    port: 0,
    host: '127.0.0.1',
    tokens: { tenants: { [tenant]: [tokens[tenant] as string], [other]: [tokens[other] as string] } },
    topics: { partitions: 2 },
    logger,
  });
  await service.start();
  processor = new Processor({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, groupId: uniqueName('dlq-api-processor'), topicRefreshMs: 500, tenants: [tenant], logger });
  await processor.start();
  producer = createKafka({ brokers: engines.brokers, clientId: 'dlq-api-test' }, logger).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await processor?.stop();
  await service?.stop();
  await es.indices.delete({ index: `logs.${tenant}.*` }).catch(() => undefined);
  await es.close();
});

test('dead letters are listed with their cause, followed live, replayed after a fix with their ids (twice, stored once), then purged; another tenant can do none of it', { timeout: 180_000 }, async () => {
  assert.equal((await request('GET', `/v1/tenants/${tenant}/deadletters`)).statusCode, 404, 'no topic before the first apply');
  await apply(STRICT);
  // 10 good lines, 10 in lowercase (fixed by v2), 5 that fail under both versions.
  const lines = [
    ...Array.from({ length: 10 }, (_, i) => ({ id: `good-${i}`, message: `INFO paid ${i}` })),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `lower-${i}`, message: `info paid ${i}` })),
    ...Array.from({ length: 5 }, (_, i) => ({ id: `garbage-${i}`, message: `!!! nothing like a log line ${i}` })),
  ];
  await send(lines);
  await eventually('15 dead letters listed', async () => (await deadLetters()).deadLetters.length === 15, 60_000);

  const { deadLetters: listed, complete } = await deadLetters('?class=parse&pipeline=api');
  assert.equal(complete, true);
  assert.equal(listed.length, 15);
  const first = listed[0]!;
  assert.equal(first.cause.class, 'parse');
  assert.equal(first.cause.pipeline, 'api');
  assert.equal(first.cause.version, 1);
  assert.equal(first.cause.topic, `logs.${tenant}`);
  assert.match(first.value ?? '', /"message":"(info paid|!!! nothing)/);
  assert.equal(first.replayCount, 0);
  assert.equal((await deadLetters('?limit=4')).deadLetters.length, 4);
  assert.equal((await deadLetters('?limit=4')).complete, false);
  // The latest first: the same dead letters as the oldest-first list's end, newest at the top.
  const at = (l: StoredDeadLetter): number => Date.parse(l.timestamp);
  const newest = await deadLetters('?limit=4&order=newest');
  assert.equal(newest.deadLetters.length, 4);
  assert.equal(newest.complete, false, 'eleven older ones are left');
  assert.ok(newest.deadLetters.every((l, i, all) => i === 0 || at(all[i - 1]!) >= at(l)), 'newest first');
  const cut = at(newest.deadLetters.at(-1)!);
  assert.ok(listed.filter((l) => at(l) > cut).every((l) => newest.deadLetters.some((n) => n.partition === l.partition && n.offset === l.offset)), 'nothing newer left out');
  const wholeNewest = await deadLetters('?order=newest&class=parse');
  assert.equal(wholeNewest.complete, true);
  assert.deepEqual(
    wholeNewest.deadLetters.map((l) => `${l.partition}/${l.offset}`).sort(),
    listed.map((l) => `${l.partition}/${l.offset}`).sort(),
    'all fifteen either way',
  );
  assert.deepEqual((await request('GET', `/v1/tenants/${tenant}/deadletters?order=latest`)).json().errors, [{ path: 'order', reason: 'must be oldest or newest, not "latest"' }]);
  assert.equal((await deadLetters('?class=schema')).deadLetters.length, 0);
  assert.equal((await deadLetters(`?until=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).deadLetters.length, 0, 'time → offsets');
  const bad = await request('GET', `/v1/tenants/${tenant}/deadletters?since=yesterday&class=nope&limit=0`);
  assert.equal(bad.statusCode, 400);
  assert.deepEqual((bad.json() as { errors: Array<{ path: string }> }).errors.map((e) => e.path), ['since', 'class', 'limit']);

  // Another tenant's token: 403 everywhere, nothing changed.
  for (const [method, path, body] of [
    ['GET', `/v1/tenants/${tenant}/deadletters`, undefined],
    ['GET', `/v1/tenants/${tenant}/deadletters/stream`, undefined],
    ['POST', `/v1/tenants/${tenant}/deadletters/replay`, {}],
    ['POST', `/v1/tenants/${tenant}/deadletters/purge`, { until: new Date().toISOString() }],
  ] as const) {
    assert.equal((await request(method, path, { token: tokens[other], body })).statusCode, 403, `${method} ${path}`);
  }
  assert.equal((await deadLetters()).deadLetters.length, 15, 'nothing replayed or purged by the other tenant');
  await eventually('the good lines are in Elasticsearch', async () => (await documents()).length === 10, 60_000);
  assert.deepEqual(await documents(), Array.from({ length: 10 }, (_, i) => `good-${i}`).sort());

  // Live: a stream that is following sees a new dead letter within 2 s.
  const stream = await fetch(`${service.address}/v1/tenants/${tenant}/deadletters/stream?class=parse`, { headers: { authorization: `Bearer ${tokens[tenant]}` } });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const until = async (pattern: RegExp, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!pattern.test(text)) {
      const left = deadline - Date.now();
      assert.ok(left > 0, `not within ${ms} ms: ${pattern} in ${text.slice(-500)}`);
      const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), left))]);
      if (chunk && !chunk.done) text += chunk.value;
    }
  };
  await until(/event: ready/, 20_000);
  const sentAt = Date.now();
  await send([{ id: 'garbage-live', message: '!!! live one' }]);
  await until(/event: deadletter\nid: \d+\/\d+\ndata: .*live one/, 10_000);
  assert.ok(Date.now() - sentAt < 2000 + 1000, `the live dead letter took ${Date.now() - sentAt} ms`);
  await reader.cancel();

  // Fix, then replay: the lowercase lines are stored with their original ids; the garbage fails again.
  await apply(FIXED);
  const dry = await request('POST', `/v1/tenants/${tenant}/deadletters/replay`, { body: { pipeline: 'api', dryRun: true } });
  assert.equal(dry.statusCode, 200, dry.body);
  assert.deepEqual({ ...(dry.json() as object), replayId: undefined }, { replayId: undefined, matched: 16, replayed: 0, skipped: 0, scanned: 16, total: 16, remaining: 0, done: true });
  assert.equal((await deadLetters()).deadLetters.length, 16, 'a dry run changes nothing');
  // A resumed call does what the first was asked for, whatever comes with it: a selection of
  // a partition's first and last dead letter, resumed without it, still matches only those two.
  const inPartition = new Map<number, StoredDeadLetter[]>();
  for (const letter of (await deadLetters()).deadLetters) inPartition.set(letter.partition, [...(inPartition.get(letter.partition) ?? []), letter]);
  const fullest = [...inPartition.values()].sort((a, b) => b.length - a.length)[0]!;
  assert.ok(fullest.length >= 3, 'a partition with dead letters between its first and last');
  const ends = [fullest[0]!, fullest.at(-1)!].map((l) => `${l.partition}/${l.offset}`);
  type Step = { matched: number; total: number; remaining: number; resume?: string; done: boolean };
  let step = (await request('POST', `/v1/tenants/${tenant}/deadletters/replay`, { body: { deadLetters: ends, dryRun: true, maxRecords: 1 } })).json() as Step;
  assert.deepEqual([step.matched, step.done, step.total], [1, false, Number(fullest.at(-1)!.offset) - Number(fullest[0]!.offset) + 1], 'read from the first to the last');
  assert.ok(step.remaining > 0 && step.remaining < step.total, `progress: ${step.remaining} of ${step.total} left`);
  let selectedMatched = step.matched;
  for (let calls = 0; !step.done && calls < 20; calls++) {
    step = (await request('POST', `/v1/tenants/${tenant}/deadletters/replay`, { body: { resume: step.resume, dryRun: true, maxRecords: 1 } })).json() as Step;
    selectedMatched += step.matched;
  }
  assert.deepEqual([selectedMatched, step.done, step.remaining], [2, true, 0], 'the selection, resumed');
  // Ten records per call: the rest goes on from the resume token, as the CLI does.
  let replay = (await request('POST', `/v1/tenants/${tenant}/deadletters/replay`, { body: { pipeline: 'api', maxRecords: 10 } })).json() as { replayId: string; replayed: number; total: number; remaining: number; resume?: string; done: boolean };
  let replayed = replay.replayed;
  assert.deepEqual([replay.done, replay.total, replay.remaining], [false, 16, 6], 'ten of sixteen read');
  const replayId = replay.replayId;
  while (!replay.done) {
    replay = (await request('POST', `/v1/tenants/${tenant}/deadletters/replay`, { body: { resume: replay.resume, maxRecords: 10 } })).json() as typeof replay;
    assert.equal(replay.replayId, replayId, 'one replay, resumed');
    replayed += replay.replayed;
  }
  assert.equal(replayed, 16);
  const expected = [...Array.from({ length: 10 }, (_, i) => `good-${i}`), ...Array.from({ length: 10 }, (_, i) => `lower-${i}`)].sort();
  await eventually('the fixed lines are in Elasticsearch with their original ids', async () => (await documents()).length === 20, 60_000);
  assert.deepEqual(await documents(), expected);
  await eventually('the still-broken ones are back, replayed once', async () => (await deadLetters()).deadLetters.filter((d) => d.replayCount === 1).length === 6, 60_000);
  const again = (await deadLetters()).deadLetters.filter((d) => d.replayCount === 1);
  for (const letter of again) {
    assert.equal(letter.headers[REPLAY_HEADERS.id], replayId);
    assert.match(letter.headers[REPLAY_HEADERS.from] ?? '', new RegExp(`^dlq\\.${tenant}/\\d+/\\d+$`));
    assert.equal(letter.cause.version, 2, 'failed under the pipeline now in force');
    assert.match(letter.value ?? '', /!!! /);
  }

  // A second replay of everything stores nothing twice.
  const second = (await request('POST', `/v1/tenants/${tenant}/deadletters/replay`, { body: { maxRecords: 1000 } })).json() as { replayed: number; done: boolean };
  assert.equal(second.done, true);
  assert.equal(second.replayed, 22, '16 originals and the 6 that came back');
  await eventually('the twice-replayed ones are back', async () => (await deadLetters()).deadLetters.filter((d) => d.replayCount === 2).length === 6, 60_000);
  assert.deepEqual(await documents(), expected, 'stored once');

  // Purge: a dry run says what would go, then it goes.
  const now = new Date().toISOString();
  const dryPurge = (await request('POST', `/v1/tenants/${tenant}/deadletters/purge`, { body: { until: now, dryRun: true } })).json() as { records: number };
  // 16 first dead letters, 6 back from the first replay, 6 + 6 back from the second (its originals and the once-replayed).
  assert.equal(dryPurge.records, 34);
  assert.equal((await request('POST', `/v1/tenants/${tenant}/deadletters/purge`, { body: { until: now, pipeline: 'api' } })).statusCode, 400, 'no filter on purge');
  const purged = (await request('POST', `/v1/tenants/${tenant}/deadletters/purge`, { body: { until: now } })).json() as { records: number };
  assert.equal(purged.records, 34);
  assert.equal((await deadLetters()).deadLetters.length, 0);
});
