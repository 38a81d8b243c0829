/**
 * Smoke tests of the engines `npm test` runs against, through clients that are ours
 * (kafkajs via @tributary/kafka, the schema-registry client) and clients that are not
 * (kcat, curl): if these pass, the engines are real enough for everything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { tenantNames } from '@tributary/tenant';
import { testEngines, uniqueName } from '@tributary/testkit';

const engines = testEngines();

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// CI installs kcat (.ci/run); elsewhere a missing kcat skips rather than fails.
const kcat = hasCommand('kcat');

test('kcat, a client that is not ours, lists the broker and our topics', { skip: !kcat && !process.env['CI'] && 'kcat not installed' }, async () => {
  const tenant = uniqueName('kcat');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'smoke' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 2 }));
  await admin.disconnect();
  const metadata = execFileSync('kcat', ['-b', engines.brokers.join(','), '-L', '-t', `logs.${tenant}`], { encoding: 'utf8' });
  assert.match(metadata, /1 brokers:/);
  assert.match(metadata, new RegExp(`topic "logs\\.${tenant}" with 2 partitions`));
});

test('LZ4 batches interoperate: what kcat (librdkafka) compresses we read, and what we compress kcat reads', { skip: !kcat && !process.env['CI'] && 'kcat not installed' }, async () => {
  const topic = `logs.${uniqueName('lz4')}`;
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'smoke-lz4' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
  await admin.disconnect();
  const theirs = Array.from({ length: 50 }, (_, i) => `from kcat ${i} ${'x'.repeat(i * 20)}`);
  execFileSync('kcat', ['-b', engines.brokers.join(','), '-P', '-t', topic, '-z', 'lz4', '-X', 'linger.ms=50'], { input: theirs.join('\n') + '\n' });
  const producer = kafka.producer();
  await producer.connect();
  const ours = Array.from({ length: 50 }, (_, i) => `from kafkajs ${i} ${'y'.repeat(i * 20)}`);
  await producer.send({ topic, compression: kafkajs.CompressionTypes.LZ4, messages: ours.map((value) => ({ value })) });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: uniqueName('lz4-reader') });
  const read: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`read ${read.length} of 100 records`)), 20_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        read.push(String(message.value));
        if (read.length === 100) {
          clearTimeout(timeout);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.deepEqual(read, [...theirs, ...ours]);
  const kcatRead = execFileSync('kcat', ['-b', engines.brokers.join(','), '-C', '-t', topic, '-o', 'beginning', '-e', '-q'], { encoding: 'utf8' });
  assert.deepEqual(kcatRead.trim().split('\n'), [...theirs, ...ours]);
});

test('curl reads Elasticsearch cluster health', () => {
  const body = JSON.parse(execFileSync('curl', ['-sf', `${engines.elasticsearchUrl}/_cluster/health`], { encoding: 'utf8' })) as { status: string };
  assert.ok(['green', 'yellow'].includes(body.status));
});

test('curl lists schema-registry subjects on the Confluent-compatible API', () => {
  const body = JSON.parse(execFileSync('curl', ['-sf', `${engines.schemaRegistryUrl}/subjects`], { encoding: 'utf8' })) as unknown;
  assert.ok(Array.isArray(body));
});

test('an Avro record registered in the schema registry round-trips through Kafka', async () => {
  const tenant = uniqueName('avro');
  const { logsTopic } = tenantNames(tenant);
  const registry = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const schema = {
    type: 'record',
    name: 'Envelope',
    namespace: 'dev.tributary.smoke',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'message', type: 'string' },
      { name: 'stream', type: { type: 'enum', name: 'Stream', symbols: ['stdout', 'stderr'] } },
    ],
  };
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${logsTopic}-value` });
  assert.equal(await registry.getLatestSchemaId(`${logsTopic}-value`), id);
  const record = { id: 'node-a:/var/log/pods/x:42', message: '{"level":"info","msg":"paid"}', stream: 'stdout' };
  const encoded = await registry.encode(id, record);
  assert.equal(encoded[0], 0, 'Confluent wire format: magic byte');
  assert.equal(encoded.readInt32BE(1), id, 'Confluent wire format: schema id');

  const kafka = createKafka({ brokers: engines.brokers, clientId: 'smoke' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 1 }));
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: logsTopic, messages: [{ key: 'pod/api', value: encoded }] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: uniqueName('smoke') });
  await consumer.connect();
  await consumer.subscribe({ topic: logsTopic, fromBeginning: true });
  const value = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no record within 30 s')), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        clearTimeout(timer);
        resolve(message.value ?? Buffer.alloc(0));
      },
    });
  });
  await consumer.disconnect();
  // avsc decodes into an instance of a generated record class: compare the fields.
  assert.deepEqual({ ...(await registry.decode(value)) }, record);
});

test('the registry refuses an incompatible schema change', async () => {
  const registry = new SchemaRegistry({ host: engines.schemaRegistryUrl });
  const subject = `${uniqueName('compat')}-value`;
  const v1 = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
  const v2 = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] };
  await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
  await assert.rejects(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject }));
});
