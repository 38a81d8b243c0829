import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alreadyAccepted, desiredStatus, manifestText, statusDiffers, type LoggingPipelineResource } from './resource.js';

const resource = (status?: LoggingPipelineResource['status']): LoggingPipelineResource => ({
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'LoggingPipeline',
  metadata: { name: 'api', namespace: 'payments', uid: 'u1', generation: 3, resourceVersion: '42', finalizers: ['tributary.dev/pipeline'], labels: { team: 'p' } },
  spec: { parse: [{ json: {} }] },
  ...(status ? { status } : {}),
});
const t0 = new Date('2026-12-03T10:00:00.123Z');
const t1 = new Date('2026-12-03T11:00:00Z');

test('the manifest is the resource without what the API server added', () => {
  assert.deepEqual(JSON.parse(manifestText({ ...resource(), status: { acceptedVersion: 1 } })), {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'LoggingPipeline',
    metadata: { name: 'api', namespace: 'payments', labels: { team: 'p' } },
    spec: { parse: [{ json: {} }] },
  });
});

test('an accepted generation: version, both conditions true, no errors', () => {
  const status = desiredStatus(resource(), { kind: 'applied', result: { outcome: 'updated', version: 4 } }, t0);
  assert.equal(status.observedGeneration, 3);
  assert.equal(status.acceptedVersion, 4);
  assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime]), [
    ['Accepted', 'True', 'Accepted', '2026-12-03T10:00:00Z'],
    ['Ready', 'True', 'InForce', '2026-12-03T10:00:00Z'],
  ]);
  assert.deepEqual(status.errors, []);
});

test('a refused change keeps the version in force and says which field', () => {
  const before = desiredStatus(resource(), { kind: 'applied', result: { outcome: 'created', version: 1 } }, t0);
  const refused = desiredStatus(
    resource(before),
    { kind: 'rejected', stage: 'validation', inForce: 1, errors: [{ path: 'spec.parse[0].regex.pattern', reason: 'bad' }, { path: 'spec.priority', reason: 'too big' }] },
    t1,
  );
  assert.equal(refused.acceptedVersion, 1);
  const accepted = refused.conditions?.find((c) => c.type === 'Accepted');
  assert.equal(accepted?.status, 'False');
  assert.equal(accepted?.reason, 'Invalid');
  assert.equal(accepted?.message, 'spec.parse[0].regex.pattern: bad (and 1 more); version 1 stays in force');
  assert.equal(accepted?.lastTransitionTime, '2026-12-03T11:00:00Z', 'it changed status');
  const ready = refused.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.reason, 'PreviousVersionInForce');
  assert.equal(ready?.lastTransitionTime, '2026-12-03T10:00:00Z', 'still True: the transition time stays');
  assert.deepEqual(refused.errors, [{ path: 'spec.parse[0].regex.pattern', reason: 'bad' }, { path: 'spec.priority', reason: 'too big' }]);

  const never = desiredStatus(resource(), { kind: 'rejected', stage: 'destination', inForce: undefined, errors: [{ path: 'spec.output.elasticsearch.index', reason: 'down' }] }, t1);
  assert.equal(never.acceptedVersion, undefined);
  assert.deepEqual(never.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Accepted', 'False', 'DestinationCheckFailed'],
    ['Ready', 'False', 'NothingInForce'],
  ]);
});

test('the same state computed twice (two operators, two passes) is no change', () => {
  const first = desiredStatus(resource(), { kind: 'applied', result: { outcome: 'created', version: 1 } }, t0);
  const second = desiredStatus(resource(first), { kind: 'applied', result: { outcome: 'unchanged', version: 1 } }, t1);
  assert.equal(statusDiffers(first, second), false);
  assert.deepEqual(second, first, 'even the transition times are kept');
  assert.equal(statusDiffers(undefined, first), true);
  assert.equal(alreadyAccepted(resource(first), 1), true);
  assert.equal(alreadyAccepted(resource(first), 2), false, 'another version is in force (applied over HTTP, say)');
  assert.equal(alreadyAccepted({ ...resource(first), metadata: { ...resource().metadata, generation: 4 } }, 1), false, 'a newer generation');
});
