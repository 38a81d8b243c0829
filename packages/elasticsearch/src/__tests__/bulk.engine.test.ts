import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Client } from '@elastic/elasticsearch';
import { testEngines, uniqueName } from '@tributary/testkit';
import { bulkWrite, createElasticsearch, tenantIndex, tenantIndexPattern, type BulkItem, type BulkItemResult } from '../index.js';

let client: Client;
const tenant = uniqueName('bulk');
const streamTemplate = `${tenant}-streams`;

before(() => {
  client = createElasticsearch({ url: testEngines().elasticsearchUrl });
});
after(async () => {
  // Wildcard deletes are refused (action.destructive_requires_name): delete by name. The test
  // distribution has no delete-data-stream API, so there the one small stream stays until the
  // engines stop; a full Elasticsearch deletes it, then its template.
  const { indices } = await client.indices.resolveIndex({ name: tenantIndexPattern(tenant), expand_wildcards: 'all' });
  if (indices.length > 0) await client.indices.delete({ index: indices.map((i) => i.name).join(',') });
  await client.indices.deleteDataStream({ name: tenantIndex(tenant, 'stream') }).catch(() => undefined);
  await client.indices.deleteIndexTemplate({ name: streamTemplate }).catch(() => undefined);
  await client.close();
});

const doc = (index: string, id: string, body: unknown, op: BulkItem['op'] = 'create'): BulkItem => ({ index, id, op, body: JSON.stringify(body) });

async function count(index: string): Promise<number> {
  await client.indices.refresh({ index });
  return (await client.count({ index })).count;
}

/** The stored `_source` exactly as Elasticsearch holds it, bytes not reparsed. */
async function rawSource(index: string, id: string): Promise<string> {
  const stream = await client.transport.request<Readable>({ method: 'GET', path: `/${encodeURIComponent(index)}/_source/${encodeURIComponent(id)}` }, { asStream: true });
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

test('a mixed batch is stored, each document byte for byte as given', async () => {
  const a = tenantIndex(tenant, 'mixed-a');
  const b = tenantIndex(tenant, 'mixed-b');
  const verbatim = '{"n":1.0, "d":2.50,"s":"caf\\u00e9","z":1,"a":2,"e":1e3}';
  const pretty = JSON.stringify({ message: 'pretty\nprinted', nested: { list: [1, 2, 3], deep: { yes: true } } }, null, 2);
  const items: BulkItem[] = [
    doc(a, 'node-a:1', { '@timestamp': '2026-11-25T10:00:00Z', message: 'paid', log: { level: 'info' } }),
    doc(a, 'node-a:2', { message: 'ünïcødé ✓ 🚀', tags: ['x', 'y'] }, 'index'),
    doc(b, 'node-b:1', { message: 'other index', http: { status: 200 } }),
    { index: a, id: 'verbatim', op: 'create', body: verbatim },
    { index: b, id: 'pretty', op: 'index', body: pretty },
    doc(a, 'node-a:3', {}),
  ];
  const results = await bulkWrite(client, items, { refresh: true });
  assert.deepEqual(results, items.map((): BulkItemResult => ({ status: 'stored' })));
  assert.equal(await count(a), 4);
  assert.equal(await count(b), 2);
  assert.equal(await rawSource(a, 'verbatim'), verbatim, 'the pre-serialized JSON reached Elasticsearch unchanged');
  const got = await client.get({ index: b, id: 'pretty' });
  assert.deepEqual(got._source, JSON.parse(pretty), 'newlines between tokens don\'t split the NDJSON');
  const found = await client.get({ index: a, id: 'node-a:2' });
  assert.deepEqual(found._source, { message: 'ünïcødé ✓ 🚀', tags: ['x', 'y'] });
});

test('the same ids again with create are stored duplicates, stored once', async () => {
  const index = tenantIndex(tenant, 'redelivery');
  const items = Array.from({ length: 20 }, (_, i) => doc(index, `node-a:${i}`, { message: `line ${i}` }));
  assert.ok((await bulkWrite(client, items, { refresh: true })).every((r) => r.status === 'stored' && !('duplicate' in r)));
  assert.equal(await count(index), 20);

  const again = await bulkWrite(client, [...items, doc(index, 'node-a:new', { message: 'new' })], { refresh: true });
  assert.deepEqual(again.slice(0, 20), items.map((): BulkItemResult => ({ status: 'stored', duplicate: true })));
  assert.deepEqual(again[20], { status: 'stored' });
  assert.equal(await count(index), 21);
  assert.equal((await client.get<{ message: string }>({ index, id: 'node-a:3' }))._source?.message, 'line 3', 'the first write is kept');
});

test('mapping conflicts are rejected alone, class mapping, with the Elasticsearch reason', async () => {
  const index = tenantIndex(tenant, 'mapped');
  await client.indices.create({ index, mappings: { properties: { status: { type: 'long' } } } });
  const first = await bulkWrite(client, [doc(index, '1', { status: 5 }), doc(index, '2', { user: { id: 1 } })]);
  assert.deepEqual(first, [{ status: 'stored' }, { status: 'stored' }]);

  const second = await bulkWrite(client, [
    doc(index, '3', { status: 'abc' }),
    doc(index, '4', { status: 7 }),
    doc(index, '5', { user: 'bob' }),
    { index, id: '6', op: 'create', body: '{"broken": ' },
  ], { refresh: true });
  const [abc, seven, bob, broken] = second;
  assert.deepEqual(seven, { status: 'stored' }, 'a good document in the same batch is stored');
  for (const rejected of [abc, bob, broken]) {
    assert.equal(rejected?.status, 'rejected');
    assert.ok(rejected?.status === 'rejected' && rejected.class === 'mapping' && rejected.httpStatus === 400);
    assert.ok(rejected.reason.length <= 1_000);
  }
  assert.ok(abc?.status === 'rejected');
  assert.match(abc.reason, /^(document_parsing_exception|mapper_parsing_exception): .*failed to parse field \[status\] of type \[long\]/);
  assert.match(abc.reason, /For input string: "abc"/);
  assert.equal(abc.errorType, 'document_parsing_exception');
  assert.ok(bob?.status === 'rejected');
  assert.match(bob.reason, /object mapping for \[user\] tried to parse field \[user\] as object, but found a concrete value/);
  assert.equal(await count(index), 3);
});

test('a too long _id is rejected before sending; the rest of the batch is stored', async () => {
  const index = tenantIndex(tenant, 'ids');
  const results = await bulkWrite(client, [doc(index, 'x'.repeat(513), { a: 1 }), doc(index, 'é'.repeat(256), { a: 2 }), doc(index, 'ok', { a: 3 })]);
  assert.equal(results[0]?.status, 'rejected');
  assert.ok(results[0]?.status === 'rejected' && results[0].class === 'request');
  assert.match(results[0].reason, /513 bytes/);
  assert.deepEqual(results.slice(1), [{ status: 'stored' }, { status: 'stored' }]);
});

test('nanosecond timestamps keep their precision in a date_nanos index and data stream', async () => {
  const index = tenantIndex(tenant, 'nanos');
  await client.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date_nanos' } } } });
  const stamps = ['2026-11-25T10:00:00.123456789Z', '2026-11-25T10:00:00.123456788Z', '2026-11-25T10:00:00.000000001Z'];
  const items = stamps.map((ts, i) => doc(index, `n${i}`, { '@timestamp': ts, message: `m${i}` }));
  assert.ok((await bulkWrite(client, items, { refresh: true })).every((r) => r.status === 'stored'));

  const nanosOf = async (target: string): Promise<string[]> => {
    const found = await client.search({
      index: target,
      sort: [{ '@timestamp': 'asc' }],
      docvalue_fields: [{ field: '@timestamp', format: 'strict_date_optional_time_nanos' }],
      _source: false,
    });
    return found.hits.hits.map((hit) => String((hit.fields?.['@timestamp'] as unknown[] | undefined)?.[0]));
  };
  assert.deepEqual(await nanosOf(index), [...stamps].sort());

  const stream = tenantIndex(tenant, 'stream');
  await client.indices.putIndexTemplate({
    name: streamTemplate,
    index_patterns: [`${stream}*`],
    data_stream: {},
    priority: 500,
    template: { mappings: { properties: { '@timestamp': { type: 'date_nanos' } } } },
  });
  const toStream = stamps.map((ts, i) => doc(stream, `s${i}`, { '@timestamp': ts }));
  assert.ok((await bulkWrite(client, toStream, { refresh: true })).every((r) => r.status === 'stored'));
  assert.deepEqual(await nanosOf(stream), [...stamps].sort());
  const again = await bulkWrite(client, [toStream[0]!, { ...toStream[1]!, op: 'index' }]);
  assert.deepEqual(again[0], { status: 'stored', duplicate: true });
  assert.ok(again[1]?.status === 'rejected' && again[1].class === 'mapping');
  assert.match(again[1].reason, /op_type of create/);
});

test('a client pointed at a closed port: every item is retry, quickly', async () => {
  const dead = createElasticsearch({ url: 'http://127.0.0.1:1', requestTimeout: 2_000, maxRetries: 0 });
  try {
    const index = tenantIndex(tenant, 'never');
    const items = Array.from({ length: 5 }, (_, i) => doc(index, String(i), { i }));
    const started = Date.now();
    const results = await bulkWrite(dead, items, { timeoutMs: 1_000 });
    assert.equal(results.length, 5);
    for (const result of results) {
      assert.ok(result.status === 'retry', JSON.stringify(result));
      assert.match(result.reason, /ConnectionError|ECONNREFUSED/);
      assert.equal(result.httpStatus, undefined);
    }
    assert.ok(Date.now() - started < 5_000);
  } finally {
    await dead.close();
  }
});

test('a server that never answers: every item is retry after timeoutMs; so is an aborted request', async () => {
  const sockets = new Set<Socket>();
  const blackHole: Server = createServer((socket) => void sockets.add(socket.on('error', () => undefined)));
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const { port } = blackHole.address() as { port: number };
  const silent = createElasticsearch({ url: `http://127.0.0.1:${port}`, maxRetries: 0 });
  try {
    const items = [doc(tenantIndex(tenant, 'never'), '1', { a: 1 }), doc(tenantIndex(tenant, 'never'), '2', { a: 2 })];
    const timedOut = await bulkWrite(silent, items, { timeoutMs: 200 });
    assert.deepEqual(timedOut.map((r) => r.status), ['retry', 'retry']);
    assert.match((timedOut[0] as { reason: string }).reason, /TimeoutError/);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await bulkWrite(silent, items, { signal: controller.signal });
    assert.deepEqual(aborted.map((r) => r.status), ['retry', 'retry']);
    assert.match((aborted[0] as { reason: string }).reason, /abort/i);
  } finally {
    await silent.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  }
});

test('no items: no request, no results', async () => {
  const dead = createElasticsearch({ url: 'http://127.0.0.1:1' });
  assert.deepEqual(await bulkWrite(dead, []), []);
  await dead.close();
});

test('5 000 documents in one call are all stored', async () => {
  const index = tenantIndex(tenant, 'many');
  const items = Array.from({ length: 5_000 }, (_, i) =>
    doc(index, `node-a:${i}`, { '@timestamp': new Date(Date.UTC(2026, 10, 25, 10, 0, 0, i)).toISOString(), message: `GET /api/orders/${i} 200`, log: { level: i % 10 === 0 ? 'warn' : 'info' }, http: { status: 200, bytes: i * 17 } }),
  );
  const started = Date.now();
  const results = await bulkWrite(client, items, { refresh: true, timeoutMs: 120_000 });
  const ms = Date.now() - started;
  assert.equal(results.length, 5_000);
  assert.equal(results.filter((r) => r.status === 'stored').length, 5_000);
  assert.equal(await count(index), 5_000);
  console.log(`# 5000 documents in one bulkWrite: ${ms} ms`);
});
