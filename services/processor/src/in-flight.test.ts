import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightBudget } from './in-flight.js';

test('a partition pauses at its limit and resumes below half of it', () => {
  const budget = new InFlightBudget({ process: 1000, tenant: 500, partition: 100 });
  budget.add('a', 'logs.a/0', 99);
  assert.equal(budget.shouldPause('a', 'logs.a/0'), false);
  budget.add('a', 'logs.a/0', 1);
  assert.equal(budget.shouldPause('a', 'logs.a/0'), true);
  budget.remove('a', 'logs.a/0', 40);
  assert.equal(budget.mayResume('a', 'logs.a/0'), false, 'still above half: no flapping');
  budget.remove('a', 'logs.a/0', 10);
  assert.equal(budget.mayResume('a', 'logs.a/0'), true);
});

test('a tenant at its limit pauses every partition of it, and not another tenant’s', () => {
  const budget = new InFlightBudget({ process: 1000, tenant: 160, partition: 100 });
  budget.add('flood', 'logs.flood/0', 80);
  budget.add('flood', 'logs.flood/1', 80);
  assert.equal(budget.shouldPause('flood', 'logs.flood/2'), true, 'an idle partition of a tenant at its limit');
  assert.equal(budget.shouldPause('trickle', 'logs.trickle/0'), false);
  assert.equal(budget.mayResume('flood', 'logs.flood/2'), false);
  budget.remove('flood', 'logs.flood/1', 80);
  assert.equal(budget.mayResume('flood', 'logs.flood/2'), true);
});

test('the process is full at its limit, and the counts return to zero', () => {
  const budget = new InFlightBudget({ process: 100, tenant: 100, partition: 100 });
  budget.add('a', 'logs.a/0', 60);
  budget.add('b', 'logs.b/0', 40);
  assert.equal(budget.full(), true);
  budget.remove('a', 'logs.a/0', 60);
  budget.remove('b', 'logs.b/0', 40);
  assert.equal(budget.full(), false);
  assert.equal(budget.bytes, 0);
  assert.equal(budget.tenantBytes('a'), 0);
  assert.equal(budget.partitionBytes('logs.b/0'), 0);
});

test('limits below one byte are refused', () => {
  assert.throws(() => new InFlightBudget({ process: 0, tenant: 1, partition: 1 }), /process must be ≥ 1/);
});
