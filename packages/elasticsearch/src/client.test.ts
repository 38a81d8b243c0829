import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElasticsearch, InvalidElasticsearchUrlError } from './client.js';
import { tenantIndex, tenantIndexPattern } from './indices.js';

test('refuses an unusable URL with a coded error naming it', () => {
  assert.throws(() => createElasticsearch({ url: 'not a url' }), InvalidElasticsearchUrlError);
  assert.throws(() => createElasticsearch({ url: 'ftp://es:9200' }), /protocol must be http or https/);
});

test('names indices inside the tenant prefix only', () => {
  assert.equal(tenantIndex('payments', 'Checkout'), 'logs.payments.checkout');
  assert.equal(tenantIndexPattern('payments'), 'logs.payments.*');
  assert.throws(() => tenantIndex('Payments', 'x'), /invalid tenant name/);
});
