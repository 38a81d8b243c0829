/**
 * The operator as it runs in a cluster: `tributary operator` processes, two at once, then
 * killed with SIGKILL while resources change, then started again. Real API server, Kafka
 * and Elasticsearch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION } from '@tributary/pipeline';
import { ensureCrd, loadKubeConfig, type LoggingPipelineResource } from '@tributary/operator';
import { eventually, startLocalKubernetes, testEngines, uniqueName } from '@tributary/testkit';
import { allPipelineRecords } from '../services/operator/src/__tests__/records.js';

const engines = testEngines();
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const tenant = uniqueName('team-crash');

test('two operators at once agree; killed while resources change, a new one converges and republishes nothing that did not change', { timeout: 300_000 }, async (t) => {
  const kubernetes = await startLocalKubernetes({ logger: pino({ level: 'silent' }) });
  t.after(() => kubernetes.stop());
  const config = loadKubeConfig(kubernetes.kubeconfig);
  await ensureCrd(config);
  const objects = config.makeApiClient(CustomObjectsApi);
  const coordinates = { group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, namespace: tenant };
  const pattern = (field: string) => `^(?P<${field}>[A-Z]+) (?P<msg>.*)$`;
  const body = (name: string, field = 'level') => ({
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'LoggingPipeline',
    metadata: { name, namespace: tenant },
    spec: { parse: [{ regex: { pattern: pattern(field) } }], output: { elasticsearch: { index: name } } },
  });
  const list = async () => ((await objects.listNamespacedCustomObject(coordinates)) as { items: LoggingPipelineResource[] }).items;
  const records = async () => {
    const all = await allPipelineRecords(engines.brokers);
    return new Map([...all].filter(([key]) => key.startsWith(`${tenant}/`)).map(([key, versions]) => [key.slice(tenant.length + 1), versions]));
  };
  /** Every resource's status describes its generation, and each has the version given. */
  const converged = async (expected: Record<string, number>) => {
    const items = await list();
    return (
      items.length === Object.keys(expected).length &&
      items.every((r) => r.status?.observedGeneration === r.metadata.generation && r.status?.acceptedVersion === expected[r.metadata.name ?? ''])
    );
  };

  let output = '';
  const operators: ChildProcess[] = [];
  const start = (): ChildProcess => {
    const child = spawn(process.execPath, [bin, 'operator', '--namespaces', tenant, '--metrics-port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, KUBECONFIG: kubernetes.kubeconfig, KAFKA_BROKERS: engines.brokers.join(','), ELASTICSEARCH_URL: engines.elasticsearchUrl, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    operators.push(child);
    return child;
  };
  t.after(() => {
    for (const child of operators) child.kill('SIGKILL');
  });
  const kill = async (child: ChildProcess) => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  // 1. Two operators watch the same namespace while six pipelines are created.
  const first = start();
  const second = start();
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  for (const name of names) await objects.createNamespacedCustomObject({ ...coordinates, body: body(name) });
  await eventually(() => `all six accepted as version 1 (operators said: ${output.slice(-3000)})`, () => converged(Object.fromEntries(names.map((n) => [n, 1]))), 90_000);
  // ... and having agreed, neither keeps writing: no ping-pong between them. Both may have
  // published a change at once (readers keep the first of the same version), and the second's
  // publish can land after the first's status says converged, so quiet is waited for: records
  // unchanged over 3 s. Ping-pong never goes quiet.
  let settled = await records();
  for (let quiet = false, since = Date.now(); !quiet; ) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const now = await records();
    quiet = isDeepStrictEqual(now, settled);
    assert.ok(quiet || Date.now() - since < 30_000, `still publishing 30 s after converging: ${JSON.stringify([...now])}`);
    settled = now;
  }
  for (const name of names) {
    const versions = settled.get(name) ?? [];
    // Once by each operator at most: the same version, which readers ignore the second time.
    assert.ok(versions.length >= 1 && versions.length <= 2 && versions.every((v) => v === 1), `${name}: only version 1 was published, once per operator at most (${JSON.stringify(versions)})`);
  }

  // 2. Both killed; meanwhile two pipelines change, one is deleted and one is created.
  await kill(first);
  await kill(second);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  for (const name of ['a', 'b']) {
    await objects.patchNamespacedCustomObject({ ...coordinates, name, body: { spec: { parse: [{ regex: { pattern: pattern('severity') } }] } } }, merge);
  }
  await objects.deleteNamespacedCustomObject({ ...coordinates, name: 'c' }); // held by the finalizer until an operator runs
  await objects.createNamespacedCustomObject({ ...coordinates, body: body('g') });

  // 3. A new operator converges.
  start();
  await eventually(
    () => `converged after the restart (operator said: ${output.slice(-3000)})`,
    () => converged({ a: 2, b: 2, d: 1, e: 1, f: 1, g: 1 }),
    90_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const after = await records();
  for (const name of ['d', 'e', 'f']) assert.deepEqual(after.get(name), settled.get(name), `${name} did not change, and nothing was republished for it`);
  for (const name of ['a', 'b']) assert.deepEqual(after.get(name)?.filter((v) => v !== 1), [2], `${name}: version 2 once`);
  assert.equal(after.get('c')?.at(-1), null, 'c: the tombstone');
  assert.deepEqual(after.get('g'), [1], 'g: version 1 once');
});
