import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka } from '@tributary/kafka';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION } from '@tributary/pipeline';
import { Processor } from '@tributary/processor';
import { eventually, startLocalKubernetes, testEngines, uniqueName, type LocalKubernetes } from '@tributary/testkit';
import { applyManifest, PipelineStore } from '@tributary/apply';
import { ensureCrd, loadKubeConfig, manifestText, Operator, type LoggingPipelineResource } from '../index.js';
import { pipelineRecords } from './records.js';

const engines = testEngines();
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
const tenant = uniqueName('team-op');
const es = createElasticsearch({ url: engines.elasticsearchUrl });
let kubernetes: LocalKubernetes;
let objects: CustomObjectsApi;
let operator: Operator;
let processor: Processor;
let producer: Producer;

const coordinates = { group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, namespace: tenant };
const STRICT = '^(?P<level>[A-Z]+) (?P<msg>.*)$';
const resource = (name: string, pattern: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'LoggingPipeline',
  metadata: { name, namespace: tenant },
  spec: { parse: [{ regex: { pattern } }], output: { elasticsearch: { index: name } }, ...extra },
});

const read = async (name: string): Promise<LoggingPipelineResource> => (await objects.getNamespacedCustomObject({ ...coordinates, name })) as LoggingPipelineResource;
const condition = (r: LoggingPipelineResource, type: string) => r.status?.conditions?.find((c) => c.type === type);
const patchSpec = (name: string, spec: unknown) =>
  objects.patchNamespacedCustomObject({ ...coordinates, name, body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

/** Waits until the resource's status describes its current generation, and returns it. */
async function settled(name: string, what: (r: LoggingPipelineResource) => boolean, label: string): Promise<LoggingPipelineResource> {
  let last: LoggingPipelineResource | undefined;
  await eventually(
    () => `${name}: ${label} (status: ${JSON.stringify(last?.status)})`,
    async () => {
      last = await read(name);
      return last.status?.observedGeneration === last.metadata.generation && what(last);
    },
    30_000,
  );
  return last as LoggingPipelineResource;
}

async function send(messages: string[], prefix: string): Promise<void> {
  await producer.send({
    topic: `logs.${tenant}`,
    acks: -1,
    messages: messages.map((message, i) => ({
      key: 'app-1',
      value: encodeEnvelope({ id: `${prefix}-${i}`, time: new Date().toISOString(), stream: 'stdout', message, source: { kind: 'sdk', app: 'api', host: 'h' } }),
    })),
  });
}

async function documents(index: string, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  await eventually(
    () => `${ids.length} documents in ${index} (have ${found.size})`,
    async () => {
      await es.indices.refresh({ index }).catch(() => undefined);
      const response = await es.search<Record<string, unknown>>({ index, size: 1000, query: { ids: { values: ids } } }).catch(() => undefined);
      for (const hit of response?.hits.hits ?? []) found.set(String(hit._id), hit._source ?? {});
      return ids.every((id) => found.has(id));
    },
    30_000,
  );
  return found;
}

before(async () => {
  kubernetes = await startLocalKubernetes({ logger });
  const config = loadKubeConfig(kubernetes.kubeconfig);
  await ensureCrd(config);
  objects = config.makeApiClient(CustomObjectsApi);
  processor = new Processor({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, groupId: uniqueName('op-processor'), topicRefreshMs: 500, tenants: [tenant], logger });
  await processor.start();
  operator = new Operator({
    brokers: engines.brokers,
    elasticsearchUrl: engines.elasticsearchUrl,
    kubeconfig: kubernetes.kubeconfig,
    namespaces: [tenant],
    topics: { partitions: 2 },
    metricsPort: 0,
    host: '127.0.0.1',
    logger,
  });
  await operator.start();
  producer = createKafka({ brokers: engines.brokers, clientId: 'operator-test' }, logger).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await operator?.stop();
  await processor?.stop();
  await kubernetes?.stop();
  await es.indices.delete({ index: `logs.${tenant}.*` }).catch(() => undefined);
  await es.close();
});

test('a valid LoggingPipeline is accepted as version 1, in status, and the processor indexes records with it', { timeout: 120_000 }, async () => {
  await objects.createNamespacedCustomObject({ ...coordinates, body: resource('api', STRICT) });
  const accepted = await settled('api', (r) => condition(r, 'Accepted')?.status === 'True', 'Accepted=True');
  assert.equal(accepted.status?.acceptedVersion, 1);
  assert.equal(condition(accepted, 'Ready')?.status, 'True');
  assert.deepEqual(accepted.metadata.finalizers, ['tributary.dev/pipeline']);
  await eventually('version 1 in force in the processor', () => processor.pipelines.get(tenant, 'api')?.version === 1);

  const ready = await fetch(`${operator.metricsAddress}/readyz`);
  assert.equal(ready.status, 200);
  const metrics = await (await fetch(`${operator.metricsAddress}/metrics`)).text();
  assert.match(metrics, /^tributary_operator_reconciles_total\{outcome="created"\} 1$/m);
  assert.match(metrics, /^tributary_operator_resources 1$/m);
  assert.match(metrics, /^tributary_operator_queue_depth \d+$/m);
  assert.match(metrics, /^tributary_operator_watch_restarts_total 0$/m);

  await send(['INFO paid 1', 'WARN slow 2'], 'v1');
  const docs = await documents(`logs.${tenant}.api`, ['v1-0', 'v1-1']);
  assert.equal(docs.get('v1-0')?.['level'], 'INFO');
  assert.equal(docs.get('v1-1')?.['msg'], 'slow 2');
});

test('a change with a broken regex is refused in status with the field path; version 1 stays and records keep flowing through it', { timeout: 120_000 }, async () => {
  await patchSpec('api', { parse: [{ regex: { pattern: '^(?P<level>[A-Z]+ (?P<msg>.*)$' } }] });
  const refused = await settled('api', (r) => condition(r, 'Accepted')?.status === 'False', 'Accepted=False');
  assert.equal(condition(refused, 'Accepted')?.reason, 'Invalid');
  assert.match(condition(refused, 'Accepted')?.message ?? '', /version 1 stays in force/);
  assert.equal(refused.status?.acceptedVersion, 1);
  assert.equal(condition(refused, 'Ready')?.reason, 'PreviousVersionInForce');
  assert.equal(refused.status?.errors?.[0]?.path, 'spec.parse[0].regex.pattern', JSON.stringify(refused.status?.errors));
  assert.match(refused.status?.errors?.[0]?.reason ?? '', /not a valid RE2 regular expression: missing \)/);

  await send(['ERROR still parsed by v1'], 'after-refusal');
  const docs = await documents(`logs.${tenant}.api`, ['after-refusal-0']);
  assert.equal(docs.get('after-refusal-0')?.['level'], 'ERROR');
  assert.equal(processor.pipelines.get(tenant, 'api')?.version, 1);

  // Fixing it is accepted as version 2.
  await patchSpec('api', { parse: [{ regex: { pattern: '^(?P<severity>[A-Z]+) (?P<msg>.*)$' } }] });
  const fixed = await settled('api', (r) => condition(r, 'Accepted')?.status === 'True', 'Accepted=True again');
  assert.equal(fixed.status?.acceptedVersion, 2);
  assert.deepEqual(fixed.status?.errors, []);
});

test('the same pipeline changed by the control plane\'s path is put back as the resource says, at once', { timeout: 120_000 }, async () => {
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'operator-test-store' }, logger);
  const other = new PipelineStore({ kafka, elasticsearch: es, topics: { partitions: 2 }, logger });
  await other.start();
  try {
    const before = (await read('api')).status?.acceptedVersion ?? 0;
    const text = manifestText({ ...(await read('api')), spec: { parse: [{ json: {} }], output: { elasticsearch: { index: 'api' } } } });
    const result = await applyManifest(other.deps, { tenant, name: 'api', text });
    assert.equal(result.outcome, 'updated');
    const restored = await settled('api', (r) => (r.status?.acceptedVersion ?? 0) > before + 1, 'a newer version than the one applied around it');
    await eventually('the processor runs the resource\'s spec again', () => {
      const inForce = processor.pipelines.get(tenant, 'api');
      return inForce?.version === restored.status?.acceptedVersion && JSON.stringify(inForce?.manifest.spec.parse) === JSON.stringify((restored.spec as { parse: unknown }).parse);
    });
  } finally {
    await other.stop();
  }
});

test('every example manifest that `tributary apply` takes is taken as it is by the API server, with no field dropped', { timeout: 60_000 }, async () => {
  const dir = join(import.meta.dirname, '..', '..', '..', '..', 'packages', 'pipeline', 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 2);
  for (const file of files) {
    const manifest = parse(readFileSync(join(dir, file), 'utf8')) as { metadata: { namespace: string } };
    // Strict field validation (kubectl's default): a field the CRD lacks would be a 422, not silently pruned.
    const created = (await objects.createNamespacedCustomObject({ ...coordinates, namespace: manifest.metadata.namespace, body: manifest, dryRun: 'All', fieldValidation: 'Strict' })) as { spec: unknown };
    assert.deepEqual(created.spec, (manifest as unknown as { spec: unknown }).spec, `${file}: the spec is stored as written`);
  }
});

test('a change the CRD schema refuses is refused by the API server with the path, and never reaches the operator', { timeout: 60_000 }, async () => {
  const before = await read('api');
  const reconciles = async () => (await operator.metrics.reconciles.get()).values.reduce((n, v) => n + v.value, 0);
  const count = await reconciles();
  await assert.rejects(
    () => patchSpec('api', { priority: 5000 }),
    (err: { code?: number; body?: string }) => {
      assert.equal(err.code, 422);
      assert.match(String(err.body), /spec\.priority/);
      return true;
    },
  );
  await assert.rejects(
    () => objects.createNamespacedCustomObject({ ...coordinates, body: { ...resource('typo', STRICT), spec: { parse: [{ regex: { pattern: STRICT }, json: {} }] } } }),
    (err: { code?: number; body?: string }) => err.code === 422 && /spec\.parse\[0\]/.test(String(err.body)),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal((await read('api')).metadata.generation, before.metadata.generation, 'the spec did not change');
  assert.equal(await reconciles(), count, 'nothing was reconciled');
});

test('deleting publishes the tombstone, then lets the resource go; the processor falls back to the tenant default', { timeout: 120_000 }, async () => {
  await objects.deleteNamespacedCustomObject({ ...coordinates, name: 'api' });
  await eventually('the resource is gone', async () => {
    try {
      await read('api');
      return false;
    } catch (err) {
      return (err as { code?: number }).code === 404;
    }
  });
  const records = await pipelineRecords(engines.brokers, `${tenant}/api`);
  assert.equal(records.at(-1), null, 'the last record of the key is a tombstone');
  await eventually('the processor dropped the pipeline', () => processor.pipelines.get(tenant, 'api') === undefined);
  await send(['INFO after delete'], 'deleted');
  const docs = await documents(`logs.${tenant}.default`, ['deleted-0']);
  assert.equal(docs.get('deleted-0')?.['message'], 'INFO after delete');
});

test('the API server stopped for 30 s: processors are unaffected meanwhile, and the operator reconnects and catches up', { timeout: 180_000 }, async () => {
  await objects.createNamespacedCustomObject({ ...coordinates, body: resource('outage', STRICT) });
  await settled('outage', (r) => r.status?.acceptedVersion === 1, 'version 1');
  const restarts = (await operator.metrics.watchRestarts.get()).values[0]?.value ?? 0;

  await kubernetes.stopApiServer();
  await send(['INFO during the outage'], 'outage');
  const during = await documents(`logs.${tenant}.outage`, ['outage-0']);
  assert.equal(during.get('outage-0')?.['level'], 'INFO');
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  await kubernetes.startApiServer();

  await eventually('the watch was restarted', async () => ((await operator.metrics.watchRestarts.get()).values[0]?.value ?? 0) > restarts, 60_000);
  await patchSpec('outage', { parse: [{ regex: { pattern: '^(?P<severity>[A-Z]+) (?P<msg>.*)$' } }] });
  const caughtUp = await settled('outage', (r) => r.status?.acceptedVersion === 2, 'version 2 after the outage');
  assert.equal(condition(caughtUp, 'Accepted')?.status, 'True');
  await eventually('version 2 in force in the processor', () => processor.pipelines.get(tenant, 'outage')?.version === 2);
});
