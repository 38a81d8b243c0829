import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@elastic/elasticsearch';
import { testEngines, uniqueName } from '@tributary/testkit';
import { clusterHealth, createElasticsearch, tenantIndex, tenantIndexPattern } from '../index.js';

let client: Client;
const tenant = uniqueName('es');

before(() => {
  client = createElasticsearch({ url: testEngines().elasticsearchUrl });
});
after(async () => {
  // Wildcard deletes are refused (action.destructive_requires_name): resolve the names first.
  const found = await client.indices.get({ index: tenantIndexPattern(tenant), ignore_unavailable: true, allow_no_indices: true });
  if (Object.keys(found).length > 0) await client.indices.delete({ index: Object.keys(found) });
  await client.close();
});

test('the cluster is healthy', async () => {
  const health = await clusterHealth(client);
  assert.notEqual(health.status, 'red');
  assert.equal(health.nodes, 1);
});

test('a document indexed twice under the same _id is stored once, and is searchable', async () => {
  const index = tenantIndex(tenant, 'Checkout');
  assert.equal(index, `logs.${tenant}.checkout`);
  const doc = { '@timestamp': '2026-11-25T10:00:00.123456789Z', message: 'paid', log: { level: 'info' } };
  for (let i = 0; i < 2; i++) {
    const result = await client.bulk({ refresh: true, operations: [{ index: { _index: index, _id: 'node-a:42' } }, doc] });
    assert.equal(result.errors, false);
  }
  const { count } = await client.count({ index: tenantIndexPattern(tenant) });
  assert.equal(count, 1);
  const found = await client.search<typeof doc>({ index, query: { match: { message: 'paid' } } });
  assert.equal(found.hits.hits[0]?._id, 'node-a:42');
  assert.deepEqual(found.hits.hits[0]?._source, doc);
});
