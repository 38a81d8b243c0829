import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CRD_NAME, loggingPipelineCrd, loggingPipelineCrdYaml } from './crd.js';
import { manifestJsonSchema } from './spec/index.js';

const committed = fileURLToPath(new URL(`../../../deploy/crds/${CRD_NAME}.yaml`, import.meta.url));

test('deploy/crds holds the CRD generated from the manifest schema (run `npm run generate:crd` after changing the schema)', () => {
  assert.equal(readFileSync(committed, 'utf8'), loggingPipelineCrdYaml());
});

test('every field of the manifest spec is in the CRD, so the API server prunes none of them', () => {
  const crd = parse(readFileSync(committed, 'utf8'));
  const crdSpec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  const jsonSpec = manifestJsonSchema()['properties'] as Record<string, { properties: Record<string, unknown> }>;
  assert.deepEqual(Object.keys(crdSpec.properties).sort(), Object.keys(jsonSpec['spec']?.properties ?? {}).sort());
  const parseStep = crdSpec.properties.parse.items.properties;
  assert.deepEqual(Object.keys(parseStep).sort(), ['json', 'keyValue', 'level', 'logfmt', 'regex', 'timestamp']);
  assert.equal(parseStep.regex.properties.pattern.type, 'string');
  assert.deepEqual(parseStep.regex.required, ['pattern']);
});

test('the CRD is structural: every node has a type or preserves unknown fields, and there is no $ref, anyOf or patternProperties', () => {
  const walk = (node: Record<string, unknown>, path: string): void => {
    for (const banned of ['$ref', 'anyOf', 'oneOf', 'allOf', 'patternProperties', 'const', '$id']) assert.ok(!(banned in node), `${path} has ${banned}`);
    assert.ok(node['type'] !== undefined || node['x-kubernetes-preserve-unknown-fields'] === true, `${path} has no type`);
    for (const [key, child] of Object.entries((node['properties'] as Record<string, Record<string, unknown>>) ?? {})) walk(child, `${path}.${key}`);
    if (node['items']) walk(node['items'] as Record<string, unknown>, `${path}[]`);
    if (typeof node['additionalProperties'] === 'object') walk(node['additionalProperties'] as Record<string, unknown>, `${path}{}`);
    assert.ok(!(node['additionalProperties'] !== undefined && node['properties'] !== undefined), `${path} has properties and additionalProperties`);
  };
  const root = (loggingPipelineCrd() as { spec: { versions: Array<{ schema: { openAPIV3Schema: Record<string, unknown> } }> } }).spec.versions[0]?.schema.openAPIV3Schema;
  walk(root as Record<string, unknown>, '');
});
