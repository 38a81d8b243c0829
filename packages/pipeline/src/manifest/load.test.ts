import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatManifestError, loadManifests, ManifestValidator, MAX_MANIFEST_BYTES } from '../index.js';

const example = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'checkout-api.yaml'), 'utf8');
const validator = new ManifestValidator();
const load = (text: string) => loadManifests(text, { file: 'm.yaml', validator });

/** A minimal valid manifest with `spec` replaced. */
function manifest(spec: unknown, metadata: Record<string, unknown> = { name: 'api', namespace: 'payments' }): string {
  return stringify({ apiVersion: 'tributary.dev/v1alpha1', kind: 'LoggingPipeline', metadata, spec });
}

function errorsOf(text: string): string[] {
  const result = load(text);
  assert.equal(result.manifests.length, 0, 'an invalid document yields no manifest');
  return result.errors.map(formatManifestError);
}

test('the example manifest is valid, and comes back frozen', () => {
  const { manifests, errors } = load(example);
  assert.deepEqual(errors, []);
  assert.equal(manifests.length, 1);
  const [loaded] = manifests;
  assert.equal(loaded?.manifest.metadata.namespace, 'payments');
  assert.equal(loaded?.manifest.spec.parse?.length, 3);
  assert.ok(Object.isFrozen(loaded?.manifest.spec.parse?.[0]));
});

test('JSON is accepted too, and several documents per file', () => {
  const json = JSON.stringify(load(example).manifests[0]?.manifest);
  const { manifests, errors } = load(`${example}\n---\n${manifest({ priority: 5 }, { name: 'other', namespace: 'payments' })}\n---\n`);
  assert.deepEqual(errors, []);
  assert.deepEqual(manifests.map((m) => [m.document, m.manifest.metadata.name]), [[0, 'checkout-api'], [1, 'other']]);
  assert.equal(load(json).manifests.length, 1);
});

test('errors point at the bad field with file:line:col and a path', () => {
  const text = [
    'apiVersion: tributary.dev/v1alpha1',
    'kind: LoggingPipeline',
    'metadata: { name: api, namespace: payments }',
    'spec:',
    '  parse:',
    '    - json: { field: message }',
    '    - regex: { field: message, patern: "x" }',
  ].join('\n');
  assert.deepEqual(errorsOf(text), [
    'm.yaml:7:14  spec.parse[1].regex.pattern: is required',
    'm.yaml:7:32  spec.parse[1].regex.patern: unknown field "patern"; did you mean "pattern"?',
  ]);
});

test('every error is reported, not just the first', () => {
  const errors = errorsOf(
    manifest(
      {
        parse: [{ json: { nonObject: 'explode' } }, {}, { json: {}, logfmt: {} }],
        filter: [{ drop: { field: 'log..level', in: [] } }],
        transfrom: [],
        tests: [{ input: {}, expect: { drop: false } }],
      },
      { name: 'Checkout', namespace: 'payments' },
    ),
  ).map((e) => e.replace(/^m\.yaml:\d+:\d+ {2}/, ''));
  assert.deepEqual(errors.sort(), [
    'metadata.name: must be a Kubernetes name: lowercase letters, digits and -, starting and ending with a letter or digit (does not match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)',
    'spec.filter[0].drop.field: must be a field as a dotted path, e.g. log.level (does not match ^[A-Za-z0-9_@$-]+(\\.[A-Za-z0-9_@$-]+)*$)',
    'spec.filter[0].drop.in: must have at least 1 item',
    'spec.parse[0].json.nonObject: must be one of "wrap", "fail"',
    'spec.parse[1]: must name exactly one of json, regex, logfmt, keyValue, timestamp, level',
    'spec.parse[2]: must name exactly one of json, regex, logfmt, keyValue, timestamp, level',
    'spec.tests[0].expect: must be one of: { fields | index }, { drop }, { deadLetter }',
    'spec.transfrom: unknown field "transfrom"; did you mean "transform"?',
  ]);
});

test('wrong apiVersion or kind is refused', () => {
  const text = manifest({}).replace('tributary.dev/v1alpha1', 'tributary.dev/v2').replace('kind: LoggingPipeline', 'kind: Pipeline');
  assert.deepEqual(
    errorsOf(text).map((e) => e.replace(/^m\.yaml:\d+:\d+ {2}/, '')),
    ['apiVersion: must be "tributary.dev/v1alpha1"', 'kind: must be "LoggingPipeline"'],
  );
});

test('bad YAML is an error with its position, and other documents still load', () => {
  const result = load(`${manifest({})}\n---\nspec: [unclosed\n`);
  assert.equal(result.manifests.length, 1);
  assert.equal(result.errors.length, 1);
  assert.match(formatManifestError(result.errors[0]!), /^m\.yaml:\d+:\d+ {2}\(document\): invalid YAML: /);
});

test('duplicate keys are refused rather than silently overwritten', () => {
  assert.match(errorsOf(`${manifest({})}kind: LoggingPipeline\n`).join('\n'), /invalid YAML: Map keys must be unique/);
});

test('hostile manifests are refused with a reason, quickly', () => {
  const started = Date.now();
  // More than the size limit.
  const huge = manifest({ parse: [{ json: { field: 'm' } }] }) + `# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`;
  assert.match(errorsOf(huge).join(), /manifest is \d+ bytes; the limit is 262144/);
  // 10 000 steps.
  const many = `${manifest({})}`.replace('spec: {}', `spec:\n  transform: [${'{remove: {fields: [a]}},'.repeat(10_000)}]`);
  assert.ok(Buffer.byteLength(many) <= MAX_MANIFEST_BYTES, 'small enough to reach the schema');
  assert.match(errorsOf(many).join(), /spec\.transform: must have at most 256 items/);
  // Deep nesting of conditions.
  let condition: unknown = { field: 'a', exists: true };
  for (let i = 0; i < 2000; i++) condition = { not: condition };
  const deep = JSON.stringify({ apiVersion: 'tributary.dev/v1alpha1', kind: 'LoggingPipeline', metadata: { name: 'a', namespace: 'b' }, spec: { filter: [{ drop: condition }] } });
  const deepResult = load(deep);
  assert.ok(deepResult.errors.length > 0 || deepResult.manifests.length === 1, 'no crash');
  // A billion laughs: aliases expanding exponentially.
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  assert.match(errorsOf(laughs.join('\n')).join(), /alias/i);
  // Not a mapping at all.
  assert.match(errorsOf('- just\n- a list\n').join(), /\(document\): must be object/);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('a webhook names its signing key by a secret name, never a path or the key itself', () => {
  const hook = (secretRef: string) => manifest({ deadLetter: { notify: [{ webhook: { url: 'https://hooks.example/x', secretRef } }] } });
  assert.deepEqual(load(hook('payments-hook.v2')).errors, []);
  for (const bad of ['../billing/key', 'Whsec_ABC', 'a..b', 'key/name']) {
    const [error] = errorsOf(hook(bad));
    assert.match(error ?? '', /spec\.deadLetter\.notify\[0\]\.webhook\.secretRef: /, bad);
  }
});

test('a dead-letter subscription names exactly one channel: a signed webhook or a Slack-compatible one, each with its window', () => {
  const notify = (target: unknown) => manifest({ deadLetter: { notify: [target] } });
  assert.deepEqual(load(notify({ webhook: { url: 'https://hooks.example/x', windowSeconds: 120 } })).errors, []);
  assert.deepEqual(load(notify({ slack: { url: 'https://hooks.slack.com/services/T/B/X', windowSeconds: 30 } })).errors, []);
  assert.match(errorsOf(notify({ webhook: { url: 'https://a.example/x' }, slack: { url: 'https://b.example/y' } })).join(), /spec\.deadLetter\.notify\[0\]: must name exactly one of webhook, slack/);
  assert.match(errorsOf(notify({})).join(), /spec\.deadLetter\.notify\[0\]: must name exactly one of webhook, slack/);
  assert.match(errorsOf(notify({ slack: { url: 'https://b.example/y', secretRef: 'k' } })).join(), /spec\.deadLetter\.notify\[0\]\.slack\.secretRef: unknown field/);
  assert.match(errorsOf(notify({ webhook: { url: 'https://a.example/x', windowSeconds: 0 } })).join(), /spec\.deadLetter\.notify\[0\]\.webhook\.windowSeconds: /);
});
