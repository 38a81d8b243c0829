/**
 * Every query of the Grafana dashboards (deploy/grafana), run against a real Prometheus
 * scraping the real services while logs flow: a forwarder (the CLI) tailing pod log files,
 * the control plane, a processor, the notifier and the operator (on a real Kubernetes API
 * server). Each must parse and return series; a query naming a metric or label no service
 * exports returns none and fails here. The traffic is shaped so that every panel has
 * something to show: dead letters and their notifications, a rejected apply, a line the
 * runtime split, an oversized one, an unparsable one, a tenant whose topic doesn't exist
 * (produce errors and a spool) and a short Elasticsearch outage (bulk retries).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ControlPlane } from '@tributary/control-plane';
import { startWebhookReceiver } from '@tributary/notify';
import { Notifier } from '@tributary/notifier';
import { ensureCrd, loadKubeConfig, Operator } from '@tributary/operator';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION } from '@tributary/pipeline';
import { Processor } from '@tributary/processor';
import { eventually, freePort, startLocalKubernetes, startLocalPrometheus, startTcpProxy, testEngines, uniqueName } from '@tributary/testkit';

const engines = testEngines();
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const grafana = join(import.meta.dirname, '..', 'deploy', 'grafana');

interface Target {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

/** Every query of every dashboard file, as Grafana would send it (its variables filled in). */
function dashboardQueries(tenant: string): { targets: Target[]; variables: Array<{ dashboard: string; name: string; query: string }> } {
  const targets: Target[] = [];
  const variables: Array<{ dashboard: string; name: string; query: string }> = [];
  for (const file of ['tributary-overview.json', 'tributary-tenant.json']) {
    const dashboard = JSON.parse(readFileSync(join(grafana, file), 'utf8')) as {
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
      templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
    };
    for (const panel of dashboard.panels) {
      for (const t of panel.targets ?? []) {
        // $__rate_interval is at least four scrape intervals; 1 s scrapes here, 15 s in the cluster.
        const expr = t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$tenant', tenant);
        assert.doesNotMatch(expr, /\$(?!1")/, `${file} "${panel.title}": only variables this test fills in (${t.expr})`);
        targets.push({ dashboard: file, panel: panel.title, expr });
      }
    }
    for (const v of dashboard.templating.list) if (v.type === 'query') variables.push({ dashboard: file, name: v.name, query: typeof v.query === 'string' ? v.query : v.query.query });
  }
  return { targets, variables };
}

test('every dashboard query parses and returns series from a real Prometheus scraping every running service', { timeout: 400_000 }, async (t) => {
  const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const tenant = uniqueName('dash');
  const unprovisioned = uniqueName('dash-new');
  const kubeTenant = uniqueName('dash-kube');
  const allow = ['127.0.0.1/32'];
  const scratch = mkdtempSync(join(tmpdir(), 'dashboards-'));
  const stops: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  });

  // The control plane, with the tenant's pipeline: JSON lines; broken ones are dead letters, notified to a webhook.
  const receiver = await startWebhookReceiver();
  stops.push(() => receiver.close());
  const adminToken = 'dashboards-admin-token-0123456789';
  const controlPlane = new ControlPlane({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, port: 0, host: '127.0.0.1', tokens: { tenants: {}, adminToken }, topics: { partitions: 2 }, notifyAllow: allow, logger });
  await controlPlane.start();
  stops.push(() => controlPlane.stop());
  const put = (name: string, spec: string) =>
    fetch(`${controlPlane.address}/v1/tenants/${tenant}/pipelines/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/yaml' },
      body: `apiVersion: tributary.dev/v1alpha1\nkind: LoggingPipeline\nmetadata: { name: ${name}, namespace: ${tenant} }\nspec:\n${spec}`,
    });
  const accepted = await put('app', `  parse:\n    - json: { field: message }\n  output: { elasticsearch: { index: dashboards } }\n  deadLetter:\n    parseFailures: deadLetter\n    notify:\n      - webhook: { url: "${receiver.url}", windowSeconds: 1 }\n`);
  assert.equal(accepted.status, 201, await accepted.text());
  const refused = await put('broken', '  parse:\n    - json: { field: 42 }\n');
  assert.equal(refused.status, 422, 'a refused apply, for the validation-error panel');

  const es = await startTcpProxy({ target: engines.elasticsearchUrl });
  stops.push(() => es.stop());
  const processor = new Processor({ brokers: engines.brokers, elasticsearchUrl: es.url, groupId: uniqueName('dash-processor'), tenants: [tenant], topicRefreshMs: 500, backoff: { initialMs: 100, maxMs: 1000 }, lagRefreshMs: 1000, metricsPort: 0, host: '127.0.0.1', logger });
  await processor.start();
  stops.push(() => processor.stop());
  const notifier = new Notifier({ brokers: engines.brokers, groupId: uniqueName('dash-notifier'), tenants: [tenant], allow, minWindowMs: 1000, topicRefreshMs: 500, metricsPort: 0, host: '127.0.0.1', logger });
  await notifier.start();
  stops.push(() => notifier.stop());

  // The operator, on a real API server, with one LoggingPipeline to reconcile.
  const kubernetes = await startLocalKubernetes({ logger });
  stops.push(() => kubernetes.stop());
  const kubeconfig = loadKubeConfig(kubernetes.kubeconfig);
  await ensureCrd(kubeconfig);
  const operator = new Operator({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, kubeconfig: kubernetes.kubeconfig, namespaces: [kubeTenant], topics: { partitions: 1 }, metricsPort: 0, host: '127.0.0.1', logger });
  await operator.start();
  stops.push(() => operator.stop());
  await kubeconfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: CRD_GROUP,
    version: CRD_VERSION,
    plural: CRD_PLURAL,
    namespace: kubeTenant,
    body: { apiVersion: `${CRD_GROUP}/${CRD_VERSION}`, kind: 'LoggingPipeline', metadata: { name: 'api', namespace: kubeTenant }, spec: { parse: [{ json: { field: 'message' } }], output: { elasticsearch: { index: 'api' } } } },
  });

  // A forwarder tailing the tenant's pod and a pod of a namespace with no topic yet.
  const root = join(scratch, 'pods');
  // Pod UIDs are unique in a cluster, and the forwarder's streams are per pod UID and container.
  const podFile = (namespace: string, uid: string) => {
    const dir = join(root, `${namespace}_api-0_${uid}`, 'api');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0.log'), '');
    return join(dir, '0.log');
  };
  const files = { tenant: podFile(tenant, '5f1c2d3e-0d3e-4a8b-9c51-2b7e00000001'), unprovisioned: podFile(unprovisioned, '5f1c2d3e-0d3e-4a8b-9c51-2b7e00000002') };
  const forwarderPort = await freePort();
  const forwarder: ChildProcess = spawn(
    process.execPath,
    [bin, 'forwarder', '--root', root, '--node', 'node-dash', '--state-dir', join(scratch, 'state'), '--metrics-port', String(forwarderPort), '--max-line-bytes', '4096', '--spool-after-ms', '1000'],
    { env: { ...process.env, KAFKA_BROKERS: engines.brokers.join(','), LOG_LEVEL: process.env['FORWARDER_LOG_LEVEL'] ?? 'error' }, stdio: ['ignore', process.env['FORWARDER_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit'] },
  );
  stops.push(async () => void forwarder.kill('SIGKILL'));
  let n = 0;
  const write = () => {
    const time = new Date().toISOString();
    let chunk = '';
    for (let i = 0; i < 20; i++, n++) chunk += `${time} stdout F {"level":"info","msg":"order ${n}"}\n`;
    chunk += `${time} stdout F {"level":"info","msg":"cut sh\n`; // a dead letter (parse)
    chunk += `${time} stdout P {"level":"info",\n${time} stdout F "msg":"split by the runtime"}\n`;
    chunk += 'not a CRI line at all\n';
    chunk += `${time} stdout F {"msg":"${'x'.repeat(6000)}"}\n`;
    appendFileSync(files.tenant, chunk);
    appendFileSync(files.unprovisioned, `${time} stdout F {"msg":"waiting for a topic ${n}"}\n`);
  };
  const writer = setInterval(write, 250);
  stops.push(async () => clearInterval(writer));

  const prometheus = await startLocalPrometheus({
    jobs: [
      { job: 'tributary-control-plane', targets: [new URL(controlPlane.address).host] },
      { job: 'tributary-processor', targets: [new URL(processor.metricsAddress).host] },
      { job: 'tributary-notifier', targets: [new URL(notifier.metricsAddress).host] },
      { job: 'tributary-forwarder', targets: [`127.0.0.1:${forwarderPort}`] },
      { job: 'tributary-operator', targets: [new URL(operator.metricsAddress).host] },
    ],
  });
  stops.push(() => prometheus.stop());

  const { targets, variables } = dashboardQueries(tenant);
  assert.ok(targets.length >= 40, `the dashboards' queries (${targets.length})`);
  // Parse errors answer at once, data or not: none may wait for the traffic.
  for (const target of targets) await assert.doesNotReject(prometheus.query(target.expr), `${target.dashboard} "${target.panel}": ${target.expr}`);

  await eventually('the tenant\'s records are indexed', async () => Number((await prometheus.query(`sum(tributary_processor_records_out_total{tenant="${tenant}", outcome="indexed"})`))[0]?.value[1] ?? 0) > 0, 120_000);
  // A short outage: the processor's bulks are retried, then go through.
  es.cut();
  await eventually('bulk retries', async () => (await prometheus.query('tributary_processor_retries_total{kind="bulk"}')).length > 0, 60_000);
  es.restore();

  let empty: Target[] = [];
  await eventually(
    () => `every query returns series; none yet from:\n${empty.map((e) => `  ${e.dashboard} "${e.panel}": ${e.expr}`).join('\n')}`,
    async () => {
      empty = [];
      for (const target of targets) if ((await prometheus.query(target.expr)).length === 0) empty.push(target);
      return empty.length === 0;
    },
    120_000,
    1000,
  );
  for (const v of variables) {
    // label_values(metric, label): the label's values among the metric's series, as Grafana asks /api/v1/label/<label>/values.
    const m = /^label_values\((\w+), (\w+)\)$/.exec(v.query);
    assert.ok(m, `${v.dashboard} $${v.name}: a label_values query (${v.query})`);
    const values = new Set((await prometheus.query(`count by (${m[2]}) (${m[1]})`)).map((s) => s.metric[m[2] as string]));
    assert.ok(values.has(tenant), `${v.dashboard} $${v.name} offers the tenant (${[...values].join(', ')})`);
  }
  // The alert rules name metrics too; each must be one a service exports (its HELP and TYPE
  // lines reach Prometheus's metadata even before the first sample).
  const metadata = (await (await fetch(`${prometheus.url}/api/v1/metadata`)).json()) as { data: Record<string, unknown> };
  const rules = readFileSync(join(import.meta.dirname, '..', 'deploy', 'prometheus', 'tributary-rules.yaml'), 'utf8');
  const named = new Set([...rules.matchAll(/\btributary_[a-z_]*[a-z]\b/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
  assert.ok(named.size > 10, `the rules' metrics (${[...named].join(', ')})`);
  for (const name of named) assert.ok(name in metadata.data, `the rules read ${name}, which a running service exports`);
  const up = await prometheus.query('sum by (job) (up{job=~"tributary-.*"})');
  assert.equal(up.length, 5, 'every component scraped');
  assert.ok(up.every((s) => s.value[1] === '1'), `every component up: ${JSON.stringify(up)}`);
});
