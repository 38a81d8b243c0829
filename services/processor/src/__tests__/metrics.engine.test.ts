import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { pino } from 'pino';
import type { Kafka } from 'kafkajs';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope, type Envelope } from '@tributary/envelope';
import { createKafka, ensureTopics, platformTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';
import { Processor } from '../index.js';

const engines = testEngines();
const logger = pino({ level: 'silent' });
const tenant = uniqueName('metered');
const es = createElasticsearch({ url: engines.elasticsearchUrl });
let kafka: Kafka;
let processor: Processor;

function envelope(id: string, message: string): Envelope {
  return { id, time: '2026-11-25T10:00:00Z', stream: 'stdout', message, source: { kind: 'sdk', app: 'metered-app', host: 'h' } };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The samples of the Prometheus text format: name, labels, value. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const found: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    found.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function get(path: string): Promise<{ status: number; body: string; contentType: string | null }> {
  const response = await fetch(`${processor.metricsAddress}${path}`);
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') };
}

async function deleteIndices(...patterns: string[]): Promise<void> {
  const found = await es.indices.get({ index: patterns, ignore_unavailable: true, allow_no_indices: true }).catch(() => ({}));
  const names = Object.keys(found);
  if (names.length > 0) await es.indices.delete({ index: names }).catch(() => undefined);
}

before(async () => {
  kafka = createKafka({ brokers: engines.brokers, clientId: 'processor-metrics-test' }, logger);
  const admin = kafka.admin();
  await admin.connect();
  // tributary.pipelines is the control plane's to create; this test runs without one.
  await ensureTopics(admin, platformTopics());
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 1 }));
  await admin.disconnect();
  processor = new Processor({
    brokers: engines.brokers,
    elasticsearchUrl: engines.elasticsearchUrl,
    groupId: uniqueName('processor-metrics'),
    // Other tests' topics share this Kafka: counting only this tenant's keeps the gauges exact.
    tenants: [tenant],
    topicRefreshMs: 1000,
    backoff: { initialMs: 50, maxMs: 500 },
    metricsPort: 0,
    host: '127.0.0.1',
    logger,
  });
  await processor.start();
});

after(async () => {
  await processor?.stop();
  await deleteIndices(`logs.${tenant}.*`);
  await es.close();
});

test('/metrics counts records in and out, dead letters by class and bulk latency; /healthz and /readyz answer; stop closes the port', async () => {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: `logs.${tenant}`,
    acks: -1,
    messages: [
      { key: 'a', value: encodeEnvelope(envelope('m:1', 'first line')) },
      { key: 'a', value: encodeEnvelope(envelope('m:2', 'second line')) },
      { key: 'a', value: Buffer.from([0xff]) },
    ],
  });
  await producer.disconnect();

  const text = await eventually('every record to be counted out', async () => {
    const { status, body } = await get('/metrics');
    if (status !== 200) return undefined;
    const settled =
      (value(body, 'tributary_processor_records_out_total', { tenant, outcome: 'indexed' }) ?? 0) +
      (value(body, 'tributary_processor_records_out_total', { tenant, outcome: 'dead_lettered' }) ?? 0);
    // Lag is counted from the committed offset, and commits follow the acknowledgements.
    const lag = value(body, 'tributary_processor_consumer_lag', { topic: `logs.${tenant}`, partition: '0' });
    return settled >= 3 && lag === 0 ? body : undefined;
  });
  assert.equal(value(text, 'tributary_processor_records_in_total', { tenant }), 3);
  assert.equal(value(text, 'tributary_processor_records_out_total', { tenant, outcome: 'indexed' }), 2);
  assert.equal(value(text, 'tributary_processor_records_out_total', { tenant, outcome: 'dead_lettered' }), 1);
  assert.equal(value(text, 'tributary_processor_records_out_total', { tenant, outcome: 'duplicate' }), undefined);
  assert.equal(value(text, 'tributary_processor_dead_letters_total', { tenant, class: 'decode' }), 1);
  assert.ok((value(text, 'tributary_processor_bulk_duration_seconds_count') ?? 0) >= 1, 'a bulk request was timed');
  assert.ok(value(text, 'tributary_processor_bulk_duration_seconds_bucket', { le: '30' }) !== undefined, 'buckets reach 30 s');
  assert.ok(value(text, 'tributary_processor_process_resident_memory_bytes') !== undefined || value(text, 'tributary_processor_process_cpu_user_seconds_total') !== undefined, 'default process metrics, prefixed');
  assert.equal(value(text, 'tributary_processor_in_flight_records'), 0);
  assert.equal(value(text, 'tributary_processor_in_flight_bytes'), 0);
  assert.equal(value(text, 'tributary_processor_waiting_partitions'), 0);
  assert.equal(value(text, 'tributary_processor_paused_partitions'), 0);
  assert.ok((value(text, 'tributary_processor_bulk_documents_count') ?? 0) >= 1, 'documents per bulk observed');
  assert.equal(value(text, 'tributary_processor_consumer_lag', { topic: `logs.${tenant}`, partition: '0' }), 0, 'caught up on the partition');
  assert.doesNotMatch(text, /first line|second line/, 'no record contents in labels');

  const health = await get('/healthz');
  assert.equal(health.status, 200);
  // Other test files create topics meanwhile; a re-subscription makes /readyz 503 for a moment.
  const ready = await eventually('/readyz to answer 200', async () => {
    const answer = await get('/readyz');
    return answer.status === 200 ? answer : undefined;
  });
  assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
  assert.match((await get('/metrics')).contentType ?? '', /^text\/plain/);

  const { port } = new URL(processor.metricsAddress);
  await processor.stop();
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
  assert.ok(refused, `port ${port} still accepts connections after stop()`);
});

test('without a metricsPort there is no HTTP server, and the metrics are still counted in process', async () => {
  const quiet = new Processor({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, logger });
  assert.throws(() => quiet.metricsAddress, /without a metricsPort/);
  assert.match(await quiet.metrics.registry.metrics(), /tributary_processor_records_in_total/);
  assert.deepEqual(quiet.readiness(), { ready: false, reason: 'loading the pipelines in force from tributary.pipelines' });
  await quiet.stop();
});
