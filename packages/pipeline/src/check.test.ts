import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { checkManifests, choosePipeline, formatManifestError, runPipelineTests, serializeDocument, type PipelineProgram } from './index.js';

function yaml(spec: unknown, name = 'api', namespace = 'payments'): string {
  return stringify({ apiVersion: 'tributary.dev/v1alpha1', kind: 'LoggingPipeline', metadata: { name, namespace }, spec });
}

function program(spec: unknown, name = 'api'): PipelineProgram {
  const { pipelines, errors } = checkManifests(yaml(spec, name));
  assert.deepEqual(errors, []);
  assert.ok(pipelines[0]);
  return pipelines[0].program;
}

test('compile errors from every section are reported together, positioned in the file', () => {
  const text = [
    'apiVersion: tributary.dev/v1alpha1',
    'kind: LoggingPipeline',
    'metadata: { name: api, namespace: payments }',
    'spec:',
    '  parse:',
    '    - regex: { pattern: "(a)\\\\1" }',
    '    - timestamp: { field: t, format: "%Y-%Q" }',
    '  filter:',
    '    - drop: { field: a, equals: 1, in: [1] }',
    '  transform:',
    '    - set: { field: "__proto__.x", value: 1 }',
    '  output: { elasticsearch: { index: logs.orders.x } }',
  ].join('\n');
  const { pipelines, errors } = checkManifests(text, { file: 'p.yaml' });
  assert.equal(pipelines.length, 0);
  const lines = errors.map(formatManifestError);
  assert.equal(lines.length, 6, lines.join('\n'));
  assert.match(lines[0] ?? '', /^p\.yaml:6:\d+ {2}spec\.parse\[0\]\.regex\.pattern: not a valid RE2 regular expression: .*backreferences are not supported/);
  assert.match(lines[1] ?? '', /^p\.yaml:7:\d+ {2}spec\.parse\[1\]\.timestamp\.format: unknown directive %Q/);
  assert.match(lines[2] ?? '', /^p\.yaml:7:\d+ {2}spec\.parse\[1\]\.timestamp\.format: has no month, day/);
  assert.match(lines[3] ?? '', /^p\.yaml:9:\d+ {2}spec\.filter\[0\]\.drop: .*exactly one/);
  assert.match(lines[4] ?? '', /^p\.yaml:11:\d+ {2}spec\.transform\[0\]\.set\.field: /);
  assert.match(lines[5] ?? '', /^p\.yaml:12:\d+ {2}spec\.output\.elasticsearch\.index: "logs\.orders\.x" is outside this tenant's indices/);
});

test('a catastrophic-backtracking pattern is harmless on RE2', () => {
  const run = program({ parse: [{ regex: { pattern: '^(?P<a>(a+)+)$' } }] });
  const started = Date.now();
  const outcome = run.run({ message: `${'a'.repeat(100_000)}b` });
  assert.equal(outcome.kind, 'deadLetter');
  assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
});

test('a record becomes an ECS document with tributary fields a tenant cannot forge', () => {
  const run = program({
    parse: [{ json: {} }, { timestamp: { field: 'ts', format: 'epoch_ms' } }, { level: { field: 'lvl' } }],
    transform: [{ set: { field: 'tributary.tenant', value: 'someone-else' } }],
    output: { elasticsearch: { index: '{{ kubernetes.container }}-{%Y.%m}' } },
  });
  const kubernetes = { namespace: 'payments', pod: 'api-1', container: 'api', labels: { app: 'shop' } };
  const outcome = run.run({ message: '{"ts":1764064800123,"lvl":"WARNING","msg":"slow"}', time: '2026-01-01T00:00:00Z', stream: 'stderr', kubernetes });
  assert.equal(outcome.kind, 'document');
  if (outcome.kind !== 'document') return;
  assert.equal(outcome.index, 'logs.payments.api-2025.11');
  const doc = JSON.parse(serializeDocument(outcome.document).ok ? JSON.stringify(outcome.document) : '{}');
  assert.equal(doc['@timestamp'], '2025-11-25T10:00:00.123Z');
  assert.deepEqual(doc.log, { stream: 'stderr', level: 'warn' });
  assert.deepEqual(doc.tributary, { tenant: 'payments', pipeline: { name: 'api', version: 0 } });
  assert.equal(doc.ts, undefined, 'the source time moved to @timestamp');
  assert.deepEqual(kubernetes, { namespace: 'payments', pod: 'api-1', container: 'api', labels: { app: 'shop' } }, 'the input is not modified');
});

test('if guards a step; failures dead-letter with class, step and rule index', () => {
  const run = program({
    parse: [{ json: { if: { field: 'message', matches: '^\\{' } } }],
    transform: [{ convert: { field: 'status', type: 'integer' } }],
  });
  assert.equal(run.run({ message: 'plain text' }).kind, 'document', 'the guard skipped the json step');
  assert.deepEqual(run.run({ message: '{"status":"abc"}' }), {
    kind: 'deadLetter',
    class: 'schema',
    message: 'field "status" = "abc" is not an integer',
    step: 'spec.transform[0]',
    ruleIndex: 1,
  });
  const broken = run.run({ message: '{"status":' });
  assert.equal(broken.kind === 'deadLetter' && broken.step, 'spec.parse[0]');
});

test('parseFailures: index keeps the record with error fields instead of a dead letter', () => {
  const run = program({ parse: [{ json: {} }], deadLetter: { parseFailures: 'index' } });
  const outcome = run.run({ message: '{"truncated' });
  assert.equal(outcome.kind, 'document');
  assert.equal(outcome.kind === 'document' && (outcome.document['error'] as { type: string }).type, 'parse');
});

test('overlapping pipelines: highest priority wins, then the name, whatever the order', () => {
  const a = program({ select: { containers: ['api'] } }, 'b-specific');
  const b = program({}, 'a-catch-all');
  const c = program({ select: { containers: ['api'] }, priority: 10 }, 'z-important');
  assert.equal(choosePipeline([a, b], { container: 'api' })?.name, 'a-catch-all');
  assert.equal(choosePipeline([b, a, c], { container: 'api' })?.name, 'z-important');
  assert.equal(choosePipeline([c, a, b], { container: 'web' })?.name, 'a-catch-all');
  assert.equal(choosePipeline([a, c], { container: 'web' }), undefined);
});

test('serializeDocument enforces the output budget', () => {
  assert.deepEqual(serializeDocument({ a: 1 }), { ok: true, body: '{"a":1}' });
  const big = serializeDocument({ message: 'x'.repeat(2000) }, 1000);
  assert.equal(big.ok, false);
  assert.match(big.ok ? '' : big.message, /document is 2\d{3} bytes of JSON; the limit is 1000/);
});

test("the manifest's tests report what differs", () => {
  const { pipelines } = checkManifests(
    yaml({
      parse: [{ json: {} }],
      tests: [
        { name: 'ok', input: { message: '{"a":1}' }, expect: { fields: { a: 1 } } },
        { name: 'wrong field', input: { message: '{"a":1}' }, expect: { fields: { a: 2, 'b.c': 'x' } } },
        { name: 'not dropped', input: { message: '{}' }, expect: { drop: true } },
      ],
    }),
  );
  const checked = pipelines[0];
  assert.ok(checked);
  const results = runPipelineTests(checked.loaded.manifest, checked.program);
  assert.deepEqual(results.map((r) => [r.name, r.passed]), [['ok', true], ['wrong field', false], ['not dropped', false]]);
  assert.deepEqual(results[1]?.mismatches, [
    { what: 'a', expected: 2, actual: 1 },
    { what: 'b.c', expected: 'x', actual: undefined },
  ]);
  assert.deepEqual(results[2]?.mismatches, [{ what: 'outcome', expected: 'dropped', actual: 'a document' }]);
});
