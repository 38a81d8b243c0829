/**
 * deploy/: every object valid against the Kubernetes schemas (kubernetes-models, and the
 * Prometheus Operator's for ServiceMonitors), and every workload checked against what its
 * service really reads: the container's command and flags are parsed by the service's own
 * options function (one source of truth: a flag or variable it doesn't know, or a value it
 * refuses, fails here), and its ports, probes and Services follow from what it serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse, parseAllDocuments } from 'yaml';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { controlPlaneConfig } from '@tributary/control-plane';
import { ProcessorMetrics } from '@tributary/processor';
import { forwarderOptions } from '@tributary/forwarder';
import { notifierOptions } from '@tributary/notifier';
import { operatorOptions } from '@tributary/operator';
import { processorOptions } from '@tributary/processor';
import { installKustomize } from '@tributary/testkit';
import { buildProgram } from '../packages/cli/src/program.js';

const deploy = join(import.meta.dirname, '..', 'deploy');
const logger = pino({ level: 'silent' });
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap, ClusterRole, ClusterRoleBinding, CustomResourceDefinition, DaemonSet, Deployment, Namespace, NetworkPolicy,
  HorizontalPodAutoscaler, PodDisruptionBudget, PriorityClass, PrometheusRule, Role, RoleBinding, ScaledObject, Secret, Service, ServiceAccount, ServiceMonitor,
};

/** What `kubectl apply -k <dir>` would apply: the real kustomize's rendering. */
function build(dir: string): Doc[] {
  const rendered = execFileSync(kustomize, ['build', join(deploy, dir)], { encoding: 'utf8' });
  return parseAllDocuments(rendered).map((d) => {
    const doc = d.toJSON() as Doc;
    // kustomize wraps a Secret's base64 at 70 columns; the API server's decoder skips the newlines.
    if (doc.kind === 'Secret' && doc['data']) doc['data'] = Object.fromEntries(Object.entries(doc['data'] as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]));
    return doc;
  });
}

interface Container {
  name: string;
  args: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string }; fieldRef?: unknown } }>;
  ports: Array<{ name: string; containerPort: number }>;
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
type Workload = Doc & { spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; terminationGracePeriodSeconds?: number } } } };

const kustomize = await installKustomize();
const base = build('base');
const overlay = build('overlays/example');
const workloads = base.filter((d): d is Workload => d.kind === 'Deployment' || d.kind === 'DaemonSet');
const engines = base.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'tributary-engines') as Doc & { data: Record<string, string> };

/** The long flags `tributary <command>` accepts, from the CLI's own definition. */
const program = buildProgram({ env: {}, logger, out: process.stdout, err: process.stderr, argv0: [] });
function accepted(command: string): Set<string> {
  const found = program.commands.find((c) => c.name() === command);
  assert.ok(found, `tributary ${command} exists`);
  return new Set(found.options.map((o) => o.long ?? ''));
}

/** `--metrics-port 9090 --state-dir /x` → `{ metricsPort: '9090', stateDir: '/x' }`, as commander hands flags over. */
function flags(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] ?? '';
    assert.match(flag, /^--[a-z-]+$/, `a flag with a value, not ${flag}`);
    assert.ok(args[i + 1] !== undefined, `${flag} has a value`);
    out[flag.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = args[i + 1] as string;
  }
  return out;
}

/** The container's environment as the pod would see it: ConfigMap values from deploy/, placeholders for Secrets and the downward API. */
function environment(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (from?.configMapKeyRef) {
      assert.equal(from.configMapKeyRef.name, 'tributary-engines', `${container.name}: ${entry.name} from the engines ConfigMap`);
      const value = engines.data[from.configMapKeyRef.key];
      assert.ok(value !== undefined, `${container.name}: the ConfigMap has ${from.configMapKeyRef.key}`);
      env[entry.name] = value;
    } else if (from?.secretKeyRef) env[entry.name] = 'a-secret-value-of-sixteen-or-more';
    else if (from?.fieldRef) env[entry.name] = 'node-1';
  }
  return env;
}

/** The port each command serves, as its own options function computes it from the container's args and env. */
const SERVES: Record<string, (env: Record<string, string>, flags: Record<string, string>) => number> = {
  'control-plane': (env, f) => {
    // Its tokens file is mounted from a Secret; the parse is the service's own, the file is a stand-in.
    const file = join(deploy, 'overlays', 'example', 'tokens.yaml');
    return controlPlaneConfig({ ...env, TRIBUTARY_TOKENS_FILE: file }, f).port;
  },
  processor: (env, f) => processorOptions(env, f, logger).metricsPort ?? -1,
  notifier: (env, f) => notifierOptions(env, f, logger).metricsPort ?? -1,
  forwarder: (env, f) => forwarderOptions(env, f, logger).metricsPort ?? -1,
  operator: (env, f) => operatorOptions(env, f, logger).metricsPort,
};

test('every object of deploy/ (base, operator, monitoring, grafana, rbac) is valid against the Kubernetes and Prometheus Operator schemas', () => {
  const all = [...base, ...build('monitoring'), ...overlay, ...build('operator'), ...parseAllDocuments(readFileSync(join(deploy, 'rbac', 'team-pipelines.yaml'), 'utf8')).map((d) => d.toJSON() as Doc)];
  for (const doc of all) {
    const Model = MODELS[doc.kind];
    assert.ok(Model, `a model for ${doc.kind}`);
    assert.doesNotThrow(() => new Model(doc as never).validate(), `${doc.kind} ${doc.metadata.name}`);
  }
  const kinds = new Set(base.map((d) => d.kind));
  for (const kind of ['Namespace', 'DaemonSet', 'Deployment', 'PodDisruptionBudget', 'Service', 'NetworkPolicy', 'ClusterRole', 'CustomResourceDefinition', 'PriorityClass']) assert.ok(kinds.has(kind), `the base has a ${kind}`);
});

test('each workload runs a real command whose own options parser takes its flags and variables, and serves what its ports, probes and Service say', () => {
  const commands = new Set<string>();
  for (const workload of workloads) {
    const container = workload.spec.template.spec.containers[0] as Container;
    const [command = '', ...rest] = container.args;
    const serves = SERVES[command];
    assert.ok(serves, `${workload.metadata.name}: runs a known command, not "${command}"`);
    commands.add(command);
    const known = accepted(command);
    for (const flag of rest.filter((a) => a.startsWith('--'))) assert.ok(known.has(flag), `tributary ${command} accepts ${flag}`);
    const port = serves(environment(container), flags(rest));
    assert.deepEqual(container.ports.map((p) => p.containerPort), [port], `${workload.metadata.name}: its one port is the one it serves`);
    const portName = container.ports[0]?.name;
    assert.deepEqual([container.readinessProbe.httpGet.path, container.readinessProbe.httpGet.port], ['/readyz', portName]);
    assert.deepEqual([container.livenessProbe.httpGet.path, container.livenessProbe.httpGet.port], ['/healthz', portName]);
    assert.ok(container.resources?.requests?.['memory'] && container.resources.limits?.['memory'], `${workload.metadata.name}: memory requests and limits`);
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true, `${workload.metadata.name}: read-only root filesystem`);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    const labels = workload.spec.template.metadata.labels;
    const service = base.find((d) => d.kind === 'Service' && Object.entries((d['spec'] as { selector: Record<string, string> }).selector).every(([k, v]) => labels[k] === v)) as (Doc & { spec: { ports: Array<{ port: number; targetPort: string }> } }) | undefined;
    assert.ok(service, `${workload.metadata.name}: a Service selects it`);
    assert.deepEqual(service.spec.ports.map((p) => [p.port, p.targetPort]), [[port, portName]], `${service.metadata.name} targets the served port`);
  }
  assert.deepEqual([...commands].sort(), ['control-plane', 'forwarder', 'notifier', 'operator', 'processor'], 'every service is deployed');
});

test('the forwarder runs on every node, reads the log directories read-only, and keeps its state on the node', () => {
  const forwarder = workloads.find((w) => w.kind === 'DaemonSet') as Workload & { spec: { template: { spec: { tolerations: unknown[]; priorityClassName: string; volumes: Array<{ name: string; hostPath: { path: string } }> } } } };
  const pod = forwarder.spec.template.spec;
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  assert.ok(base.some((d) => d.kind === 'PriorityClass' && d.metadata.name === pod.priorityClassName));
  const container = pod.containers[0] as Container & { volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> };
  const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.mountPath, m]));
  for (const path of ['/var/log/pods', '/var/lib/docker/containers']) {
    assert.equal(mounts[path]?.readOnly, true, `${path} is read-only`);
    assert.equal(pod.volumes.find((v) => v.name === mounts[path]?.name)?.hostPath.path, path);
  }
  const state = flags(container.args.slice(1))['stateDir'];
  assert.ok(state && mounts[state] && !mounts[state].readOnly, 'the state dir is a writable mount');
  assert.equal(pod.volumes.find((v) => v.name === mounts[state]?.name)?.hostPath.path, state, 'on the node, so it outlives the pod');
});

test('the processor drains before it is killed, and a disruption takes one at a time', () => {
  const processor = workloads.find((w) => w.metadata.name === 'tributary-processor') as Workload;
  const container = processor.spec.template.spec.containers[0] as Container;
  const shutdownMs = Number(flags(container.args.slice(1))['shutdownTimeoutMs']);
  assert.ok(shutdownMs > 0);
  assert.ok((processor.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000 > shutdownMs + 5000, 'the grace period outlasts the shutdown deadline, with room to commit');
  const budget = base.find((d) => d.kind === 'PodDisruptionBudget') as Doc & { spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } };
  assert.equal(budget.spec.maxUnavailable, 1);
  assert.deepEqual(budget.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'tributary-processor' });
});

test('the ServiceMonitors scrape every Service by its metrics port; the NetworkPolicies admit the scrape and the API', () => {
  const monitors = build('monitoring').filter((d) => d.kind === 'ServiceMonitor') as Array<Doc & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } }>;
  const services = base.filter((d) => d.kind === 'Service') as Array<Doc & { spec: { ports: Array<{ name: string; port: number }> } }>;
  assert.equal(monitors.length, services.length, 'one per Service');
  const scrapePorts = new Set<number>();
  for (const monitor of monitors) {
    const service = services.find((s) => s.metadata.labels?.['app.kubernetes.io/name'] === monitor.spec.selector.matchLabels['app.kubernetes.io/name']);
    assert.ok(service, `${monitor.metadata.name} selects a Service`);
    assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [[service.spec.ports[0]?.name, '/metrics']]);
    scrapePorts.add(service.spec.ports[0]?.port ?? 0);
  }
  const policies = base.filter((d) => d.kind === 'NetworkPolicy') as Array<Doc & { spec: { podSelector: Record<string, unknown>; ingress?: Array<{ from?: unknown[]; ports: Array<{ port: number }> }> } }>;
  assert.ok(policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress), 'ingress is denied by default');
  const admitted = new Set(policies.flatMap((p) => (p.spec.ingress ?? []).flatMap((rule) => rule.ports.map((port) => port.port))));
  for (const port of scrapePorts) assert.ok(admitted.has(port), `port ${port} is admitted`);
});

test('the example overlay renders: its image, engines, tokens Secret (referenced by its hashed name) and six processors', () => {
  const workloadsThere = overlay.filter((d): d is Workload => d.kind === 'Deployment' || d.kind === 'DaemonSet');
  assert.equal(workloadsThere.length, workloads.length);
  for (const workload of workloadsThere) {
    for (const container of workload.spec.template.spec.containers) assert.match((container as unknown as { image: string }).image, /^registry\.example\.com\/platform\/tributary:0\.1\.0$/);
  }
  const secret = overlay.find((d) => d.kind === 'Secret') as Doc & { data: Record<string, string> };
  assert.match(secret.metadata.name, /^tributary-control-plane-[a-z0-9]+$/);
  assert.deepEqual(Object.keys(secret.data).sort(), ['admin-token', 'tokens.yaml']);
  const controlPlane = JSON.stringify(workloadsThere.find((w) => w.metadata.name === 'tributary-control-plane'));
  assert.equal(controlPlane.split(`"${secret.metadata.name}"`).length - 1, 2, 'both references use the generated name');
  const processor = overlay.find((d) => d.kind === 'Deployment' && d.metadata.name === 'tributary-processor') as Doc & { spec: { replicas: number } };
  assert.equal(processor.spec.replicas, 6);
  const config = overlay.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'tributary-engines') as Doc & { data: Record<string, string> };
  assert.equal(config.data['ELASTICSEARCH_URL'], 'http://logging-es-http.elastic:9200');
  assert.ok(overlay.every((d) => d.kind === 'Namespace' || d.kind === 'ClusterRole' || d.kind === 'ClusterRoleBinding' || d.kind === 'CustomResourceDefinition' || d.kind === 'PriorityClass' || d.metadata.namespace === 'tributary'), 'every namespaced object is in tributary');
});

test('the processor scales on its lag: KEDA\'s Kafka scaler on its group, or an HPA on the lag metric it exports', async () => {
  const [scaledObject] = build('scaling/keda') as Array<Doc & { spec: { scaleTargetRef: { name: string }; maxReplicaCount: number; triggers: Array<{ type: string; metadata: Record<string, string> }> } }>;
  const [hpa] = build('scaling/hpa') as Array<Doc & { spec: { scaleTargetRef: { name: string }; metrics: Array<{ external: { metric: { name: string } } }> } }>;
  for (const doc of [scaledObject, hpa]) {
    assert.ok(doc);
    const Model = MODELS[doc.kind];
    assert.ok(Model);
    assert.doesNotThrow(() => new Model(doc as never).validate(), doc.kind);
    assert.equal(doc.spec.scaleTargetRef.name, 'tributary-processor');
  }
  const processor = workloads.find((w) => w.metadata.name === 'tributary-processor') as Workload;
  const container = processor.spec.template.spec.containers[0] as Container;
  const options = processorOptions(environment(container), flags(container.args.slice(1)), logger);
  const trigger = scaledObject?.spec.triggers[0];
  assert.equal(trigger?.type, 'kafka');
  assert.equal(trigger?.metadata['consumerGroup'], options.groupId, 'the group the processors really join');
  assert.ok(container.env?.some((e) => e.name === trigger?.metadata['bootstrapServersFromEnv']), 'the brokers from the processor\'s own environment');
  assert.equal(trigger?.metadata['allowIdleConsumers'], 'false', 'never more processors than partitions');
  const exported = (await new ProcessorMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(exported.includes(hpa?.spec.metrics[0]?.external.metric.name ?? ''), 'the HPA\'s metric is one the processor exports');
});

test('deploy/grafana is one ConfigMap for Grafana\'s dashboard sidecar holding the dashboards, and deploy/monitoring loads the alert rules as a PrometheusRule', () => {
  const [dashboards, ...others] = build('grafana') as Array<Doc & { data: Record<string, string> }>;
  assert.equal(others.length, 0);
  assert.equal(dashboards?.kind, 'ConfigMap');
  assert.equal(dashboards.metadata.labels?.['grafana_dashboard'], '1', 'the label the sidecar looks for');
  assert.deepEqual(Object.keys(dashboards.data).sort(), ['tributary-overview.json', 'tributary-tenant.json']);
  for (const [file, text] of Object.entries(dashboards.data)) assert.equal(text, readFileSync(join(deploy, 'grafana', file), 'utf8'), file);
  const rule = build('monitoring').find((d) => d.kind === 'PrometheusRule') as (Doc & { spec: { groups: unknown[] } }) | undefined;
  assert.ok(rule, 'a PrometheusRule');
  assert.deepEqual(rule.spec.groups, (parse(readFileSync(join(deploy, 'prometheus', 'tributary-rules.yaml'), 'utf8')) as { groups: unknown[] }).groups, 'the very rules promtool tests');
});
