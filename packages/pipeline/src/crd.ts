import { stringify } from 'yaml';
import { manifestJsonSchema } from './spec/index.js';
import { API_VERSION, KIND } from './spec/manifest.js';

type Schema = Record<string, unknown>;

export const CRD_GROUP = API_VERSION.split('/')[0] as string;
export const CRD_VERSION = API_VERSION.split('/')[1] as string;
export const CRD_PLURAL = 'loggingpipelines';
export const CRD_NAME = `${CRD_PLURAL}.${CRD_GROUP}`;

/**
 * How deep `and` / `or` / `not` are checked by the API server. A structural schema can't
 * recurse, so a condition is inlined this many levels and what is nested deeper is kept
 * as it is and checked by the operator (with the full schema) instead. Each level
 * multiplies the inlined copies by three, so the CRD stays small at 2.
 */
const CONDITION_DEPTH = 2;

/**
 * The LoggingPipeline CustomResourceDefinition, generated from the manifest's JSON Schema
 * so the two can't drift (a test compares it with `deploy/crds/`). The JSON Schema is made
 * structural (what the API server requires): references inlined, unions of literals turned
 * into enums, unions of objects merged into one object (the operator checks that exactly
 * one branch was given), free-form values marked `x-kubernetes-preserve-unknown-fields`,
 * `additionalProperties: false` left out (the API server drops unknown fields, or refuses
 * them with `kubectl apply --validate=strict`, kubectl's default).
 */
export function loggingPipelineCrd(): Schema {
  const json = manifestJsonSchema();
  const definitions = json['definitions'] as Record<string, Schema>;
  const properties = json['properties'] as Record<string, Schema>;
  const spec = structural(properties['spec'] as Schema, definitions, 0);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: CRD_GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: CRD_PLURAL, singular: KIND.toLowerCase(), shortNames: ['lp'], categories: ['tributary'] },
      versions: [
        {
          name: CRD_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Accepted', type: 'integer', description: 'The version in force', jsonPath: '.status.acceptedVersion' },
            { name: 'Ready', type: 'string', jsonPath: `.status.conditions[?(@.type=="Ready")].status` },
            { name: 'Reason', type: 'string', priority: 1, jsonPath: `.status.conditions[?(@.type=="Accepted")].reason` },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A tenant\'s log pipeline: which of its streams, how they are parsed, filtered and transformed, and where they go. The namespace is the tenant.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: {
                  type: 'object',
                  // A pipeline name is also part of Kafka keys and index names: a DNS label, not a subdomain.
                  properties: { name: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } },
                },
                spec,
                status: STATUS_SCHEMA,
              },
            },
          },
        },
      ],
    },
  };
}

/** What the operator writes; never validated against the manifest schema. */
const STATUS_SCHEMA: Schema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', description: 'The generation the status describes' },
    acceptedVersion: { type: 'integer', format: 'int64', description: 'The version in force in tributary.pipelines; stays when a change is refused' },
    conditions: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: {
        type: 'object',
        required: ['type', 'status'],
        properties: {
          type: { type: 'string' },
          status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
          reason: { type: 'string' },
          message: { type: 'string' },
          observedGeneration: { type: 'integer', format: 'int64' },
          lastTransitionTime: { type: 'string', format: 'date-time' },
        },
      },
    },
    errors: {
      type: 'array',
      description: 'Why the last change was refused: each error with the path of the bad field',
      items: {
        type: 'object',
        required: ['path', 'reason'],
        properties: { path: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
};

/** Keywords a structural schema keeps as they are. */
const KEPT = ['description', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'format'];

function structural(schema: Schema, definitions: Record<string, Schema>, conditionDepth: number): Schema {
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    const name = ref.replace(/^#\/definitions\//, '');
    const target = definitions[name];
    if (!target) throw new Error(`unknown $ref ${ref}`);
    if (name === 'Condition') {
      if (conditionDepth >= CONDITION_DEPTH) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'a condition (nested deeper than the API server checks; the operator checks it)' };
      return structural(target, definitions, conditionDepth + 1);
    }
    return structural(target, definitions, conditionDepth);
  }
  const out: Schema = {};
  const union = (schema['anyOf'] ?? schema['oneOf']) as Schema[] | undefined;
  if (union) {
    if (union.every((branch) => 'const' in branch)) {
      const types = new Set(union.map((branch) => branch['type']));
      if (types.size !== 1) throw new Error('a union of literals of several types');
      return { type: [...types][0], enum: union.map((branch) => branch['const']), ...pick(schema, KEPT) };
    }
    if (union.every((branch) => branch['type'] === 'object')) {
      // One object carrying every branch's fields; "exactly one branch" is the operator's check.
      const merged: Record<string, Schema> = {};
      for (const branch of union) Object.assign(merged, branch['properties'] as Record<string, Schema>);
      const out = structural({ type: 'object', properties: merged, minProperties: 1, ...pick(schema, KEPT) }, definitions, conditionDepth);
      // Each branch is told apart by a field it requires: exactly one of those, checked by CEL.
      const keys = union.map((branch) => (branch['required'] as string[] | undefined)?.[0]);
      if (keys.every((key): key is string => key !== undefined) && new Set(keys).size === keys.length) {
        out['x-kubernetes-validations'] = [{ rule: `${keys.map((key) => `(has(self.${key}) ? 1 : 0)`).join(' + ')} == 1`, message: `exactly one of ${keys.join(', ')}` }];
      }
      return out;
    }
    // Mixed scalars, or scalars and objects: any value; the operator checks it.
    const nullable = union.some((branch) => branch['type'] === 'null');
    return { 'x-kubernetes-preserve-unknown-fields': true, ...(nullable ? { nullable: true } : {}), ...pick(schema, ['description']) };
  }
  if ('const' in schema) return { type: schema['type'], enum: [schema['const']], ...pick(schema, KEPT) };

  const type = schema['type'];
  if (type === undefined) return { 'x-kubernetes-preserve-unknown-fields': true, ...pick(schema, ['description']) };
  Object.assign(out, { type }, pick(schema, KEPT));
  // JSON Schema draft 7's number form; OpenAPI 3.0 (and so Kubernetes) has the boolean form.
  if (typeof schema['exclusiveMinimum'] === 'number') Object.assign(out, { minimum: schema['exclusiveMinimum'], exclusiveMinimum: true });
  if (typeof schema['exclusiveMaximum'] === 'number') Object.assign(out, { maximum: schema['exclusiveMaximum'], exclusiveMaximum: true });
  if (type === 'array') out['items'] = structural(schema['items'] as Schema, definitions, conditionDepth);
  if (type === 'object') {
    const props = schema['properties'] as Record<string, Schema> | undefined;
    const patterns = schema['patternProperties'] as Record<string, Schema> | undefined;
    if (props) {
      out['properties'] = Object.fromEntries(Object.entries(props).map(([key, value]) => [key, structural(value, definitions, conditionDepth)]));
      if (Array.isArray(schema['required']) && schema['required'].length > 0) out['required'] = schema['required'];
    } else if (patterns) {
      // A map: Kubernetes has no patternProperties, so the key pattern is the operator's check.
      // A map of anything is a free-form object, which CEL rules can still name.
      const values = Object.values(patterns);
      const value = values.length === 1 ? structural(values[0] as Schema, definitions, conditionDepth) : {};
      if (value['type'] === undefined) out['x-kubernetes-preserve-unknown-fields'] = true;
      else out['additionalProperties'] = value;
    } else if (typeof schema['additionalProperties'] === 'object') {
      out['additionalProperties'] = structural(schema['additionalProperties'] as Schema, definitions, conditionDepth);
    } else {
      out['x-kubernetes-preserve-unknown-fields'] = true;
    }
  }
  return out;
}

function pick(schema: Schema, keys: readonly string[]): Schema {
  return Object.fromEntries(keys.filter((key) => schema[key] !== undefined).map((key) => [key, schema[key]]));
}

/** The CRD as the YAML file in `deploy/crds/`, with a header saying where it comes from. */
export function loggingPipelineCrdYaml(): string {
  return (
    '# Generated from the LoggingPipeline JSON Schema in packages/pipeline by `npm run generate:crd`;\n' +
    '# do not edit (a test fails when the two drift).\n' +
    stringify(loggingPipelineCrd(), { aliasDuplicateObjects: false, lineWidth: 0 })
  );
}
