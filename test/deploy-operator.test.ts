/**
 * The operator's deploy manifests, checked statically: the test API server serves no RBAC
 * or apps API, so its rules are reviewed here (test/deploy.test.ts validates every object
 * against the Kubernetes schemas). Ports, probes and variables are
 * checked against what the operator really reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { operatorOptions } from '@tributary/operator';
import { pino } from 'pino';

const deploy = join(import.meta.dirname, '..', 'deploy');
type Doc = { kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;
const load = (file: string): Doc[] => parseAllDocuments(readFileSync(join(deploy, file), 'utf8')).map((d) => d.toJSON() as Doc);
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

test("the operator's ClusterRole grants its resources, their status and Events, and nothing else", () => {
  const docs = load('operator/rbac.yaml');
  const role = docs.find((d) => d.kind === 'ClusterRole') as Doc & { rules: Rule[] };
  const granted = new Set(role.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))));
  assert.deepEqual([...granted].sort(), [
    '/events:create',
    '/events:patch',
    'tributary.dev/loggingpipelines/status:get',
    'tributary.dev/loggingpipelines/status:patch',
    'tributary.dev/loggingpipelines:get',
    'tributary.dev/loggingpipelines:list',
    'tributary.dev/loggingpipelines:patch',
    'tributary.dev/loggingpipelines:watch',
  ]);
  const binding = docs.find((d) => d.kind === 'ClusterRoleBinding') as Doc & { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> };
  const account = docs.find((d) => d.kind === 'ServiceAccount') as Doc;
  assert.equal(binding.roleRef.name, role.metadata.name);
  assert.deepEqual(binding.subjects.map((s) => `${s.namespace}/${s.name}`), [`${account.metadata.namespace}/${account.metadata.name}`]);
  const deployment = load('operator/deployment.yaml')[0] as unknown as { spec: { template: { spec: { serviceAccountName: string } } } };
  assert.equal(deployment.spec.template.spec.serviceAccountName, account.metadata.name);
});

test("a team's example Role: its own namespace's LoggingPipelines, their status read-only, nothing else", () => {
  const docs = load('rbac/team-pipelines.yaml');
  const role = docs.find((d) => d.kind === 'Role') as Doc & { rules: Rule[] };
  assert.ok(role.metadata.namespace, 'namespaced');
  for (const rule of role.rules) {
    assert.deepEqual(rule.apiGroups, ['tributary.dev']);
    assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*'), 'no wildcards');
  }
  const status = role.rules.filter((r) => r.resources.includes('loggingpipelines/status'));
  assert.deepEqual(status.flatMap((r) => r.verbs), ['get'], 'the status is the operator\'s to write');
  const binding = docs.find((d) => d.kind === 'RoleBinding') as Doc & { roleRef: { kind: string; name: string } };
  assert.equal(binding.metadata.namespace, role.metadata.namespace);
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
});

test("the Deployment's variables, port and probes are the ones the operator reads and serves", () => {
  const deployment = load('operator/deployment.yaml')[0] as unknown as {
    spec: { template: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string }>; ports: Array<{ name: string; containerPort: number }>; readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } } }> } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  assert.ok(container);
  assert.equal(container.args[0], 'operator');
  const sample: Record<string, string> = { KAFKA_BROKERS: 'kafka:9092', ELASTICSEARCH_URL: 'http://es:9200', TRIBUTARY_NOTIFY_ALLOW: '10.0.0.0/8' };
  const env = Object.fromEntries(container.env.map((e) => [e.name, sample[e.name] ?? '']));
  // The options the operator builds from exactly these variables: nothing it needs is missing.
  const options = operatorOptions(env, { metricsPort: container.args[container.args.indexOf('--metrics-port') + 1] }, pino({ level: 'silent' }));
  assert.deepEqual(Object.keys(env).sort(), ['ELASTICSEARCH_URL', 'KAFKA_BROKERS', 'TRIBUTARY_NOTIFY_ALLOW']);
  assert.equal(container.ports[0]?.containerPort, options.metricsPort);
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
});
