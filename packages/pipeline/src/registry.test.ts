import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parsePipelineKey, pipelineRecord, PipelineRegistry, type LoggingPipeline, type PipelineChange, type PipelineProgram } from './index.js';

const checkout = parse(readFileSync(join(import.meta.dirname, '..', 'examples', 'checkout-api.yaml'), 'utf8')) as LoggingPipeline;
const AT = '2026-11-25T10:00:00Z';
const paid = { message: '{"level":"info","msg":"paid","time":"2026-11-25T10:00:00Z"}', kubernetes: { container: 'api' } };
const checkoutStream = { container: 'api', labels: { app: 'checkout' } };

/** The example manifest with some fields changed: another tenant, name, index or priority. */
function manifest(changes: { namespace?: string; name?: string; index?: string; priority?: number; select?: LoggingPipeline['spec']['select'] } = {}): LoggingPipeline {
  const copy = structuredClone(checkout);
  copy.metadata.namespace = changes.namespace ?? copy.metadata.namespace;
  copy.metadata.name = changes.name ?? copy.metadata.name;
  if (changes.index) copy.spec.output = { elasticsearch: { index: changes.index } };
  if (changes.priority !== undefined) copy.spec.priority = changes.priority;
  if (changes.select !== undefined) copy.spec.select = changes.select;
  return copy;
}

function apply(registry: PipelineRegistry, pipeline: LoggingPipeline, version: number): void {
  const record = pipelineRecord(pipeline, version, AT);
  assert.deepEqual(registry.update(record.key, record.value), { ok: true });
}

function indexOf(program: PipelineProgram | undefined): string | undefined {
  const outcome = program?.run(paid);
  return outcome?.kind === 'document' ? outcome.index : undefined;
}

test('pipelineRecord builds the tributary.pipelines record, and parsePipelineKey reads its key', () => {
  const record = pipelineRecord(checkout, 3, AT);
  assert.equal(record.key, 'payments/checkout-api');
  assert.deepEqual(JSON.parse(record.value), { manifest: checkout, version: 3, appliedAt: AT });
  assert.deepEqual(parsePipelineKey('payments/checkout-api'), { tenant: 'payments', name: 'checkout-api' });
  for (const bad of ['payments', '/x', 'a/', 'a/b/c', '']) assert.equal(parsePipelineKey(bad), undefined, bad);
});

test('an accepted record puts its compiled program in force', () => {
  const registry = new PipelineRegistry();
  apply(registry, checkout, 1);
  const held = registry.get('payments', 'checkout-api');
  assert.equal(held?.version, 1);
  assert.equal(held?.appliedAt, AT);
  assert.deepEqual(held?.manifest, checkout);
  assert.equal(registry.programs('payments').length, 1);
  assert.equal(registry.choose('payments', checkoutStream), held?.program);
  assert.equal(indexOf(held?.program), 'logs.payments.checkout-2026.11.25');
  assert.equal(registry.choose('payments', { container: 'worker' }), undefined, 'select still applies');
});

test('a higher version replaces the program whole; a holder of the old one is unaffected', () => {
  const registry = new PipelineRegistry();
  apply(registry, checkout, 1);
  const oldPrograms = registry.programs('payments');
  const oldProgram = registry.choose('payments', checkoutStream);

  apply(registry, manifest({ index: 'orders' }), 2);
  assert.equal(registry.get('payments', 'checkout-api')?.version, 2);
  assert.equal(indexOf(registry.choose('payments', checkoutStream)), 'logs.payments.orders');
  assert.notEqual(registry.programs('payments'), oldPrograms, 'a new array, not a changed one');
  assert.equal(oldPrograms.length, 1);
  assert.equal(oldPrograms[0], oldProgram);
  assert.ok(Object.isFrozen(oldPrograms));
  assert.equal(indexOf(oldProgram), 'logs.payments.checkout-2026.11.25', 'the old program still runs as before');
});

test('an older or equal version is ignored, so replays are harmless', () => {
  const registry = new PipelineRegistry();
  const changes: PipelineChange[] = [];
  registry.onChange((change) => changes.push(change));
  apply(registry, manifest({ index: 'v2' }), 2);
  const programs = registry.programs('payments');
  apply(registry, manifest({ index: 'v1' }), 1);
  apply(registry, manifest({ index: 'v2-again' }), 2);
  assert.equal(registry.programs('payments'), programs);
  assert.equal(indexOf(registry.choose('payments', checkoutStream)), 'logs.payments.v2');
  assert.deepEqual(changes, [{ tenant: 'payments', name: 'checkout-api', version: 2 }]);
});

test('a bad record is rejected with a reason and the last good version stays in force', () => {
  const registry = new PipelineRegistry();
  apply(registry, checkout, 1);
  const programs = registry.programs('payments');
  const good = pipelineRecord(checkout, 2, AT);
  const withValue = (value: unknown): string => JSON.stringify({ ...(JSON.parse(good.value) as object), ...(value as object) });
  const unknownField = structuredClone(checkout) as unknown as { spec: Record<string, unknown> };
  unknownField.spec['parsers'] = [];
  const badRegex = manifest();
  badRegex.spec.parse = [{ regex: { pattern: '(a)\\1' } }] as never;

  const cases: Array<[string, string | Buffer, RegExp]> = [
    [good.key, '{"manifest":', /value is not JSON/],
    [good.key, Buffer.from('[1]'), /value is not a JSON object/],
    [good.key, withValue({ version: 0 }), /version must be a positive integer, got 0/],
    [good.key, withValue({ version: '3' }), /version must be a positive integer/],
    [good.key, withValue({ appliedAt: 'yesterday' }), /appliedAt must be an RFC 3339 time/],
    [good.key, withValue({ manifest: undefined }), /manifest is missing/],
    [good.key, withValue({ manifest: unknownField }), /manifest is invalid: spec\.parsers: unknown field "parsers"; did you mean "parse"\?/],
    [good.key, withValue({ manifest: badRegex }), /manifest does not compile: spec\.parse\[0\]\.regex\.pattern: /],
    ['payments/other', good.value, /key "payments\/other" does not match the manifest's "payments\/checkout-api"/],
    ['orders/checkout-api', good.value, /does not match/],
    ['no-slash', good.value, /is not <tenant>\/<name>/],
  ];
  for (const [key, value, reason] of cases) {
    const result = registry.update(key, value);
    assert.equal(result.ok, false, `${key} ${String(value)}`);
    if (!result.ok) assert.match(result.reason, reason);
  }
  assert.equal(registry.programs('payments'), programs);
  assert.equal(registry.get('payments', 'checkout-api')?.version, 1);
  assert.deepEqual(registry.programs('orders'), []);
});

test('a tombstone deletes the pipeline; one for an unknown key is harmless', () => {
  const registry = new PipelineRegistry();
  const changes: PipelineChange[] = [];
  const unsubscribe = registry.onChange((change) => changes.push(change));
  apply(registry, checkout, 1);
  const programs = registry.programs('payments');
  assert.deepEqual(registry.update('payments/checkout-api', null), { ok: true });
  assert.equal(registry.get('payments', 'checkout-api'), undefined);
  assert.deepEqual(registry.programs('payments'), []);
  assert.equal(registry.choose('payments', checkoutStream), undefined);
  assert.equal(programs.length, 1, 'a holder of the old list still has it');
  assert.deepEqual(registry.update('payments/never-applied', null), { ok: true });
  apply(registry, checkout, 1);
  assert.equal(registry.get('payments', 'checkout-api')?.version, 1, 'a deleted pipeline can start again at version 1');
  unsubscribe();
  registry.update('payments/checkout-api', null);
  assert.deepEqual(changes, [
    { tenant: 'payments', name: 'checkout-api', version: 1 },
    { tenant: 'payments', name: 'checkout-api', version: null },
    { tenant: 'payments', name: 'checkout-api', version: 1 },
  ]);
});

test("tenants are isolated: one tenant's programs are never returned for another", () => {
  const registry = new PipelineRegistry();
  apply(registry, manifest({ namespace: 'payments', name: 'all', select: {} }), 1);
  apply(registry, manifest({ namespace: 'orders', name: 'all', select: {} }), 1);
  apply(registry, manifest({ namespace: 'orders', name: 'api' }), 1);
  assert.deepEqual(registry.programs('payments').map((p) => `${p.tenant}/${p.name}`), ['payments/all']);
  assert.deepEqual(registry.programs('orders').map((p) => `${p.tenant}/${p.name}`), ['orders/all', 'orders/api']);
  assert.equal(registry.choose('payments', { container: 'x' })?.tenant, 'payments');
  assert.equal(registry.choose('orders', { container: 'x' })?.tenant, 'orders');
  assert.equal(registry.choose('billing', { container: 'x' }), undefined);
  assert.deepEqual(registry.list('orders').map((p) => p.name), ['all', 'api']);
  assert.deepEqual(registry.list().map((p) => `${p.tenant}/${p.name}`), ['orders/all', 'orders/api', 'payments/all']);
  registry.update('orders/all', null);
  assert.deepEqual(registry.programs('payments').map((p) => p.name), ['all'], "deleting another tenant's pipeline changes nothing here");
});

test('choose takes the highest priority among matching pipelines, then the name', () => {
  const registry = new PipelineRegistry();
  apply(registry, manifest({ name: 'catch-all', select: {}, priority: 0 }), 1);
  apply(registry, manifest({ name: 'checkout', priority: 10 }), 1);
  apply(registry, manifest({ name: 'b-checkout', priority: 10 }), 1);
  assert.equal(registry.choose('payments', checkoutStream)?.name, 'b-checkout');
  assert.equal(registry.choose('payments', { container: 'worker' })?.name, 'catch-all');
  apply(registry, manifest({ name: 'catch-all', select: {}, priority: 20 }), 2);
  assert.equal(registry.choose('payments', checkoutStream)?.name, 'catch-all');
});

test('a listener that throws reaches onListenerError, not the caller or other listeners', () => {
  const failures: unknown[] = [];
  const registry = new PipelineRegistry({ onListenerError: (err) => failures.push(err) });
  const seen: PipelineChange[] = [];
  registry.onChange(() => {
    throw new Error('listener bug');
  });
  registry.onChange((change) => seen.push(change));
  apply(registry, checkout, 1);
  assert.equal(seen.length, 1);
  assert.equal(failures.length, 1);
  assert.equal(registry.get('payments', 'checkout-api')?.version, 1);
});
