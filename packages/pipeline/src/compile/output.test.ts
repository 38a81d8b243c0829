import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileIndex } from './output.js';

const at = ['spec', 'output', 'elasticsearch', 'index'];

function namer(template: string) {
  const result = compileIndex('payments', template, at);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  return result.value;
}

function errors(template: string): string[] {
  const result = compileIndex('payments', template, at);
  assert.equal(result.ok, false, template);
  return result.ok ? [] : result.errors.map((e) => e.reason);
}

test('a plain name lands under the tenant prefix; the full name is accepted too', () => {
  assert.equal(namer('checkout')({}), 'logs.payments.checkout');
  assert.equal(namer('logs.payments.checkout')({}), 'logs.payments.checkout');
});

test('date and field templates render per document', () => {
  const name = namer('checkout-{%Y.%m.%d}');
  assert.equal(name({ '@timestamp': '2026-11-25T23:59:59.999999999Z' }), 'logs.payments.checkout-2026.11.25');
  const byContainer = namer('{{ kubernetes.container }}-{%Y}');
  assert.equal(byContainer({ kubernetes: { container: 'API/Server' }, '@timestamp': '2025-01-01T00:00:00Z' }), 'logs.payments.api-server-2025');
  assert.equal(byContainer({ '@timestamp': '2025-01-01T00:00:00Z' }), 'logs.payments.none-2025');
});

test("another tenant's prefix, bad characters and unknown directives are refused", () => {
  assert.match(errors('logs.orders.checkout').join(), /outside this tenant's indices \(logs\.payments\.\*\)/);
  assert.match(errors('Checkout').join(), /"Checkout" can't be part of an index name/);
  assert.match(errors('_hidden').join(), /must not start with/);
  assert.match(errors('x-{%Q}').join(), /unknown date directive %Q/);
  assert.match(errors('x-{{ __proto__.a }}').join(), /is not a field path/);
});
