/**
 * Schema-framed envelopes against the real schema registry `npm test` starts: Avro and JSON
 * Schema round trips, and every way a framed record can fail (unknown id, bad payload, a
 * schema that is not an envelope, a registry that is down).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { testEngines, uniqueName } from '@tributary/testkit';
import { ENVELOPE_AVRO_SCHEMA, decodeEnvelope, fileEnvelopeId, newSdkEnvelopeId, type DecodeFailure, type Envelope } from '../index.js';

const engines = testEngines();

const fileEnvelope: Envelope = {
  id: fileEnvelopeId('node-a', '2049:1234567:1716000000', 4096),
  time: '2026-11-25T10:00:00.123456789Z',
  stream: 'stdout',
  message: '{"level":"info","msg":"paid"}',
  source: { kind: 'file', node: 'node-a', path: '/var/log/pods/payments_checkout-1_uid-1/api/0.log', offset: 4096 },
  kubernetes: { namespace: 'payments', pod: 'checkout-1', pod_uid: 'uid-1', container: 'api', labels: { app: 'checkout' } },
};

const sdkEnvelope: Envelope = {
  id: newSdkEnvelopeId(),
  time: '2026-11-25T10:00:00Z',
  stream: 'stderr',
  message: 'zahlung fehlgeschlagen: 🚀',
  source: { kind: 'sdk', app: 'billing', host: 'vm-7' },
};

// Only the tests' own subjects: uniqueName keeps them apart from other tests on the same registry.
const subject = (): string => `logs.${uniqueName('envelope')}-value`;

function framedWith(schemaId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

async function failure(bytes: Buffer, registry: SchemaRegistry): Promise<DecodeFailure> {
  const result = await decodeEnvelope(bytes, { registry });
  assert.equal(result.ok, false, 'expected a decode failure');
  if (result.ok) throw new Error('unreachable');
  return result;
}

test('an Avro-framed envelope decodes through the registry, by a client that has never seen the schema', async () => {
  const producer = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const { id } = await producer.register({ type: SchemaType.AVRO, schema: JSON.stringify(ENVELOPE_AVRO_SCHEMA) }, { subject: subject() });
  const consumer = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  for (const envelope of [fileEnvelope, sdkEnvelope]) {
    const bytes = await producer.encode(id, envelope);
    assert.equal(bytes[0], 0);
    assert.equal(bytes.readInt32BE(1), id);
    assert.deepEqual(await decodeEnvelope(bytes, { registry: consumer }), { ok: true, envelope, framing: 'registry' });
  }
});

test('a JSON Schema-framed envelope decodes through the registry', async () => {
  const registry = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Envelope',
    type: 'object',
    required: ['id', 'time', 'stream', 'message', 'source'],
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 256 },
      time: { type: 'string' },
      stream: { enum: ['stdout', 'stderr'] },
      message: { type: 'string' },
      source: { type: 'object', required: ['kind'], properties: { kind: { enum: ['file', 'sdk'] } } },
      kubernetes: { type: 'object' },
    },
  };
  const { id } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(schema) }, { subject: subject() });
  const bytes = await registry.encode(id, fileEnvelope);
  const result = await decodeEnvelope(bytes, { registry: new SchemaRegistry({ host: engines.schemaRegistryUrl }) });
  assert.deepEqual(result, { ok: true, envelope: fileEnvelope, framing: 'registry' });
});

test('an unknown schema id is a decode failure naming the id, not retriable', async (t) => {
  const registry = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const result = await failure(framedWith(999999, Buffer.from('anything')), registry);
  t.diagnostic(result.reason);
  assert.match(result.reason, /^schema id 999999 is not in the schema registry/);
  assert.equal(result.schemaId, 999999);
  assert.equal(result.retriable, undefined);
});

test('a payload that does not decode with its schema is a failure naming the id', async () => {
  const registry = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(ENVELOPE_AVRO_SCHEMA) }, { subject: subject() });
  const valid = await registry.encode(id, fileEnvelope);
  for (const bytes of [valid.subarray(0, valid.length - 10), framedWith(id, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))]) {
    const result = await failure(bytes, registry);
    assert.match(result.reason, new RegExp(`^schema id ${id}: the payload does not decode with that schema: `));
    assert.equal(result.retriable, undefined);
  }
});

test('a registered schema that is not an envelope fails listing the missing fields', async () => {
  const registry = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const partial = { type: 'record', name: 'Partial', namespace: 'dev.tributary.test', fields: [{ name: 'id', type: 'string' }, { name: 'time', type: 'string' }, { name: 'stream', type: 'string' }] };
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(partial) }, { subject: subject() });
  const result = await failure(await registry.encode(id, { id: 'x', time: '2026-11-25T10:00:00Z', stream: 'stdout' }), registry);
  assert.equal(result.reason, `schema id ${id}: invalid envelope: message is required; source is required`);
  assert.deepEqual(result.errors?.map((e) => e.path), ['message', 'source']);
});

test('a registry that is down is a retriable failure, not a dead letter', async (t) => {
  // A port that was just free and is now closed: connecting is refused, as when the registry is down.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const down = new SchemaRegistry({ host: `http://127.0.0.1:${port}` });
  const started = Date.now();
  const result = await failure(framedWith(1, Buffer.from('anything')), down);
  t.diagnostic(`${result.reason} (after ${Date.now() - started} ms)`);
  assert.equal(result.retriable, true);
  assert.match(result.reason, /^schema registry unreachable while fetching schema id 1: .*ECONNREFUSED/);
});
