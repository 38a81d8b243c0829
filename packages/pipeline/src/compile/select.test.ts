import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, compileSelect, unreachableSelect } from './select.js';

test('globs match literally with * as any run', () => {
  assert.equal(compileGlob('api')('api'), true);
  assert.equal(compileGlob('api')('api-2'), false);
  assert.equal(compileGlob('checkout-*')('checkout-7f9c'), true);
  assert.equal(compileGlob('*-worker-*')('pay-worker-1'), true);
  assert.equal(compileGlob('a*a')('a'), false);
  assert.equal(compileGlob('*')(''), true);
});

test('select: all criteria must hold, any entry of a list may', () => {
  const matches = compileSelect({ containers: ['api', 'web'], labels: { app: 'checkout' }, sources: ['file'] });
  assert.equal(matches({ container: 'web', labels: { app: 'checkout', tier: 'x' }, source: 'file' }), true);
  assert.equal(matches({ container: 'db', labels: { app: 'checkout' }, source: 'file' }), false);
  assert.equal(matches({ container: 'api', labels: { app: 'cart' }, source: 'file' }), false);
  assert.equal(matches({ container: 'api', labels: { app: 'checkout' }, source: 'sdk' }), false);
  assert.equal(compileSelect(undefined)({}), true);
  assert.equal(compileSelect({ apps: ['billing-*'] })({ app: 'billing-eu', source: 'sdk' }), true);
});

test('a select that can never match is refused: its steps would be unreachable', () => {
  assert.deepEqual(unreachableSelect({ containers: ['api'], sources: ['sdk'] }).map((e) => e.segments), [['spec', 'select', 'containers']]);
  assert.match(unreachableSelect({ apps: ['billing'], sources: ['file'] })[0]?.reason ?? '', /only SDK streams have apps/);
  assert.match(unreachableSelect({ apps: ['billing'], labels: { app: 'x' } })[0]?.reason ?? '', /can never both match/);
  assert.deepEqual(unreachableSelect({ containers: ['api'], sources: ['file', 'sdk'] }), []);
  assert.deepEqual(unreachableSelect(undefined), []);
});
