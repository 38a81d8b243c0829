/**
 * The operator's reconcile latency: from a LoggingPipeline's create (what `kubectl apply`
 * does) to its status saying Accepted=True, over N resources, each a real pass of the
 * apply chain (schema, compile, tests, Elasticsearch check with the test documents, topics,
 * publish acknowledged by Kafka, status patch). Also the API server's start times.
 *
 *   npx tsx bench/operator.ts [resources=100] [concurrency=4]
 *
 * Engines: existing ones from KAFKA_BROKERS / ELASTICSEARCH_URL, else started here; the
 * Kubernetes API server is always a local one of its own.
 */
import { CustomObjectsApi, Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ensureCrd, loadKubeConfig, Operator, type LoggingPipelineResource } from '@tributary/operator';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION } from '@tributary/pipeline';
import { prepareEngines, startEngines, startLocalKubernetes, uniqueName } from '@tributary/testkit';

const count = Number(process.argv[2] ?? 100);
const concurrency = Number(process.argv[3] ?? 4);
const logger = pino({ level: 'silent' });

const installStarted = Date.now();
await prepareEngines({ only: ['kubernetes'] });
const installMs = Date.now() - installStarted;
const engines = await startEngines({ schemaRegistry: false });
const kubeStarted = Date.now();
const kubernetes = await startLocalKubernetes({ logger });
const kubeStartMs = Date.now() - kubeStarted;
const config = loadKubeConfig(kubernetes.kubeconfig);
const crdStarted = Date.now();
await ensureCrd(config);
const crdMs = Date.now() - crdStarted;

const operator = new Operator({
  brokers: engines.kafka.brokers,
  elasticsearchUrl: engines.elasticsearch.url,
  kubeconfig: kubernetes.kubeconfig,
  topics: { partitions: 1 },
  concurrency,
  metricsPort: 0,
  host: '127.0.0.1',
  logger,
});
await operator.start();

const objects = config.makeApiClient(CustomObjectsApi);
const accepted = new Map<string, number>();
const watch = await new Watch(config).watch(
  `/apis/${CRD_GROUP}/${CRD_VERSION}/${CRD_PLURAL}`,
  {},
  (_phase: string, object: LoggingPipelineResource) => {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    if (!accepted.has(key) && object.status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True')) accepted.set(key, Date.now());
  },
  () => undefined,
);

const manifest = (namespace: string, name: string) => ({
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'LoggingPipeline',
  metadata: { name, namespace },
  spec: {
    parse: [{ regex: { pattern: '^(?P<level>[A-Z]+) (?P<msg>.*)$' } }],
    transform: [{ lowercase: { fields: ['level'] } }],
    output: { elasticsearch: { index: name } },
    tests: [{ input: { message: 'INFO paid' }, expect: { fields: { level: 'info', msg: 'paid' } } }],
  },
});

async function round(label: string, concurrent: boolean): Promise<string> {
  const created = new Map<string, number>();
  const tenants = Array.from({ length: 10 }, () => uniqueName('bench-op'));
  const names = Array.from({ length: count }, (_, i) => ({ namespace: tenants[i % tenants.length] as string, name: `p${i}` }));
  const started = Date.now();
  const create = async ({ namespace, name }: { namespace: string; name: string }) => {
    created.set(`${namespace}/${name}`, Date.now());
    await objects.createNamespacedCustomObject({ group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, namespace, body: manifest(namespace, name) });
  };
  if (concurrent) await Promise.all(names.map(create));
  else {
    for (const item of names) {
      await create(item);
      const key = `${item.namespace}/${item.name}`;
      while (!accepted.has(key)) await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  while (names.some(({ namespace, name }) => !accepted.has(`${namespace}/${name}`))) await new Promise((resolve) => setTimeout(resolve, 10));
  const totalMs = Date.now() - started;
  const latencies = names.map(({ namespace, name }) => (accepted.get(`${namespace}/${name}`) as number) - (created.get(`${namespace}/${name}`) as number)).sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return `| ${label} | ${count} | ${q(0.5)} ms | ${q(0.95)} ms | ${q(0.99)} ms | ${latencies.at(-1)} ms | ${(totalMs / 1000).toFixed(1)} s |`;
}

const rows = [await round('one at a time', false), await round(`all ${count} at once`, true)];
watch.abort();
await operator.stop();
await kubernetes.stop();
await engines.stop();

console.log(`\noperator reconcile latency — npx tsx bench/operator.ts ${count} ${concurrency}\n`);
console.log(`apiextensions-apiserver install ${(installMs / 1000).toFixed(1)} s (a cached build; cold: ~3.5 min), start with etcd to ready ${(kubeStartMs / 1000).toFixed(1)} s, CRD established ${crdMs} ms\n`);
console.log('| create → Accepted=True | resources | p50 | p95 | p99 | max | all accepted in |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
