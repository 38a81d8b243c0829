import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidTenantNameError, isTenantIndex, parseTenant, tenantNames } from './index.js';

test('names every resource of a tenant from one function', () => {
  const names = tenantNames('payments');
  assert.equal(names.logsTopic, 'logs.payments');
  assert.equal(names.deadLetterTopic, 'dlq.payments');
  assert.equal(names.indexPrefix, 'logs.payments.');
  assert.equal(names.defaultIndex, 'logs.payments.default');
  assert.ok(Object.isFrozen(names));
});

test('accepts DNS-1123 labels up to 63 characters', () => {
  for (const name of ['a', 'kube-system', 'team-42', '0abc', 'a'.repeat(63)]) {
    assert.equal(parseTenant(name).ok, true, name);
  }
});

test('refuses names that are not namespace names, with path and reason', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['', /must not be empty/],
    ['Payments', /not a Kubernetes namespace name/],
    ['-a', /not a Kubernetes namespace name/],
    ['a-', /not a Kubernetes namespace name/],
    ['a.b', /not a Kubernetes namespace name/],
    ['a_b', /not a Kubernetes namespace name/],
    ['a'.repeat(64), /at most 63 characters/],
    [42, /must be a string, got number/],
    [null, /must be a string, got null/],
  ];
  for (const [input, reason] of cases) {
    const result = parseTenant(input, 'metadata.namespace');
    assert.equal(result.ok, false, String(input));
    if (!result.ok) {
      assert.equal(result.errors[0]?.path, 'metadata.namespace');
      assert.match(result.errors[0]?.reason ?? '', reason);
    }
  }
});

test('tenantNames throws a coded error for a bad name', () => {
  assert.throws(() => tenantNames('Bad Name'), (err: unknown) => {
    assert.ok(err instanceof InvalidTenantNameError);
    assert.equal(err.code, 'TRIBUTARY_INVALID_TENANT');
    return true;
  });
});

test("no tenant's index prefix contains another tenant's indices", () => {
  assert.equal(isTenantIndex('a', 'logs.a.app'), true);
  assert.equal(isTenantIndex('a', 'logs.a-b.app'), false);
  assert.equal(isTenantIndex('a', 'logs.a.'), false);
  assert.equal(isTenantIndex('a-b', 'logs.a.app'), false);
});
