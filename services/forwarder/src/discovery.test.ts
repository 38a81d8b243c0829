import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverLogFiles } from './discovery.js';

test('finds the live container logs of the kubelet layout, filtered by namespace and container', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pods-'));
  const put = (path: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '');
  };
  put('payments_api-0_6f1c0001/api/0.log');
  put('payments_api-0_6f1c0001/api/0.log.20261125-101500');
  put('payments_api-0_6f1c0001/api/0.log.20261125-091500.gz'); // compressed by the kubelet: not log text
  put('payments_api-0_6f1c0001/api/0.log.20261125-101500.tmp'); // being compressed
  put('payments_api-0_6f1c0001/istio-proxy/0.log');
  put('search_web-1_7a2b0002/web/1.log');
  put('kube-system_dns-2_8c3d0003/coredns/0.log');
  put('not-a-pod-dir/web/0.log');
  const all = await discoverLogFiles(root);
  assert.deepEqual(all.files.map((f) => f.path.slice(root.length + 1)), [
    'kube-system_dns-2_8c3d0003/coredns/0.log',
    'payments_api-0_6f1c0001/api/0.log',
    'payments_api-0_6f1c0001/istio-proxy/0.log',
    'search_web-1_7a2b0002/web/1.log',
  ]);
  assert.deepEqual(all.files[1]?.container, { namespace: 'payments', pod: 'api-0', podUid: '6f1c0001', container: 'api' });
  assert.equal(all.skipped.length, 1, 'a directory outside the layout is reported, not guessed at');
  assert.deepEqual(all.rotated.map((f) => f.path.slice(root.length + 1)), ['payments_api-0_6f1c0001/api/0.log.20261125-101500']);
  const some = await discoverLogFiles(root, { excludeNamespaces: ['kube-system'], excludeContainers: ['istio-proxy'] });
  assert.deepEqual(some.files.map((f) => `${f.container.namespace}/${f.container.container}`), ['payments/api', 'search/web']);
  const only = await discoverLogFiles(root, { includeNamespaces: ['search'] });
  assert.deepEqual(only.files.map((f) => f.container.namespace), ['search']);
  assert.deepEqual((await discoverLogFiles(join(root, 'missing'))).files, []);
  rmSync(root, { recursive: true });
});

/** A temp dir (its real path: link targets resolve to real paths), a file writer and a link maker in it. */
function sandbox(): { dir: string; put: (path: string) => string; link: (path: string, target: string) => void; done: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'discovery-')));
  return {
    dir,
    put: (path) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), '');
      return join(dir, path);
    },
    link: (path, target) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      symlinkSync(target, join(dir, path));
    },
    done: () => rmSync(dir, { recursive: true }),
  };
}

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);
const ID_C = 'c'.repeat(64);

test('a /var/log/containers link into the pods layout: its target is followed, described by the target path (pod uid included)', async () => {
  const { dir, put, link, done } = sandbox();
  const live = put('pods/payments_api-0_6f1c0001-0d3e/api/1.log');
  const rotated = put('pods/payments_api-0_6f1c0001-0d3e/api/1.log.20261125-101500');
  put('pods/payments_api-0_6f1c0001-0d3e/api/1.log.20261125-091500.gz');
  put('pods/payments_api-0_6f1c0001-0d3e/api/0.log'); // the container's previous instance: its own link, if any, names it
  put('pods/payments_api-0_6f1c0001-0d3e/api/0.log.20261125-081500');
  link(`containers/api-0_payments_api-${ID_A}.log`, live); // absolute, as the kubelet makes them
  const web = put('pods/search_web-1_7a2b0002/web/0.log');
  link(`containers/web-1_search_web-${ID_B}.log`, '../pods/search_web-1_7a2b0002/web/0.log'); // relative works too
  const found = await discoverLogFiles(join(dir, 'containers'));
  assert.deepEqual(found.files, [
    { path: live, container: { namespace: 'payments', pod: 'api-0', podUid: '6f1c0001-0d3e', container: 'api' } },
    { path: web, container: { namespace: 'search', pod: 'web-1', podUid: '7a2b0002', container: 'web' } },
  ]);
  assert.deepEqual(found.rotated, [{ path: rotated, container: { namespace: 'payments', pod: 'api-0', podUid: '6f1c0001-0d3e', container: 'api' } }]);
  assert.deepEqual(found.skipped, []);
  done();
});

test('a link to a docker json-file log (dockershim, cri-dockerd): described by the link name, the container id standing in for the pod uid', async () => {
  const { dir, put, link, done } = sandbox();
  const live = put(`docker/containers/${ID_A}/${ID_A}-json.log`);
  const first = put(`docker/containers/${ID_A}/${ID_A}-json.log.1`);
  const second = put(`docker/containers/${ID_A}/${ID_A}-json.log.2`);
  put(`docker/containers/${ID_A}/${ID_A}-json.log.3.gz`); // docker's compress=true: not log text
  put(`docker/containers/${ID_A}/config.v2.json`);
  link(`containers/checkout-7f9c5d-x2x9q_payments_api-${ID_A}.log`, live);
  // The link's container id must be the file's.
  const other = put(`docker/containers/${ID_B}/${ID_B}-json.log`);
  link(`containers/web-1_search_web-${ID_C}.log`, other);
  const found = await discoverLogFiles(join(dir, 'containers'));
  const container = { namespace: 'payments', pod: 'checkout-7f9c5d-x2x9q', podUid: ID_A, container: 'api' };
  assert.deepEqual(found.files, [{ path: live, container }]);
  assert.deepEqual(found.rotated, [
    { path: first, container },
    { path: second, container },
  ]);
  assert.equal(found.skipped.length, 1);
  assert.match(found.skipped[0] ?? '', new RegExp(`web-1_search_web-${ID_C}\\.log -> .*${ID_B}-json\\.log: neither`));
  done();
});

test('dangling links, link loops, names outside the layout and links to files outside both layouts are skipped with a reason, never thrown', async () => {
  const { dir, put, link, done } = sandbox();
  const live = put('pods/payments_api-0_6f1c0001/api/0.log');
  link(`containers/api-0_payments_api-${ID_A}.log`, live);
  link(`containers/api-1_payments_api-${ID_B}.log`, join(dir, 'pods/payments_api-1_6f1c0002/api/0.log')); // the pod was deleted
  link(`containers/loop-0_payments_a-${ID_C}.log`, join(dir, `containers/loop-1_payments_b-${ID_C}.log`));
  link(`containers/loop-1_payments_b-${ID_C}.log`, join(dir, `containers/loop-0_payments_a-${ID_C}.log`));
  link('containers/not-a-container-link.log', live);
  link(`containers/x-0_payments_x-${'d'.repeat(64)}.log`, put('elsewhere/x.log'));
  const found = await discoverLogFiles(join(dir, 'containers'));
  assert.deepEqual(found.files.map((f) => f.path), [live]);
  assert.equal(found.skipped.length, 5);
  assert.match(found.skipped.find((s) => s.includes('api-1_')) ?? '', /dangling link/);
  assert.match(found.skipped.find((s) => s.includes('loop-0_')) ?? '', /cannot resolve: ELOOP/);
  assert.match(found.skipped.find((s) => s.includes('loop-1_')) ?? '', /cannot resolve: ELOOP/);
  assert.match(found.skipped.find((s) => s.includes('not-a-container-link')) ?? '', /not <pod>_<namespace>_<container>-<container id>\.log/);
  assert.match(found.skipped.find((s) => s.includes('x-0_')) ?? '', /elsewhere\/x\.log: neither/);
  done();
});

test("a link whose namespace isn't its target's is skipped: the namespace is the tenant", async () => {
  const { dir, put, link, done } = sandbox();
  link(`containers/api-0_search_api-${ID_A}.log`, put('pods/payments_api-0_6f1c0001/api/0.log'));
  const found = await discoverLogFiles(join(dir, 'containers'));
  assert.deepEqual(found.files, []);
  assert.deepEqual(found.rotated, []);
  assert.equal(found.skipped.length, 1);
  assert.match(found.skipped[0] ?? '', /the link names namespace search, its target payments/);
  done();
});

test('a root holding pod directories and links: each file once, however often it is reached', async () => {
  const { dir, put, link, done } = sandbox();
  const api = put('payments_api-0_6f1c0001/api/0.log');
  const apiRotated = put('payments_api-0_6f1c0001/api/0.log.20261125-101500');
  link(`api-0_payments_api-${ID_A}.log`, api);
  link(`api-0_payments_api-${ID_B}.log`, 'payments_api-0_6f1c0001/api/0.log'); // a second, relative link to it
  const web = put('search_web-1_7a2b0002/web/0.log');
  link(`web-1_search_web-${ID_C}.log`, web);
  const docker = put(`docker/${ID_A}/${ID_A}-json.log`); // in a directory that is no pod: no <n>.log there, so not walked into as one
  const dockerRotated = put(`docker/${ID_A}/${ID_A}-json.log.1`);
  link(`db-0_payments_db-${ID_A}.log`, docker);
  const found = await discoverLogFiles(dir);
  assert.deepEqual(found.files.map((f) => f.path), [api, web, docker]);
  assert.deepEqual(found.rotated.map((f) => f.path), [apiRotated, dockerRotated]);
  assert.deepEqual(found.files.map((f) => f.container.podUid), ['6f1c0001', '7a2b0002', ID_A]);
  assert.deepEqual(found.skipped, []);
  done();
});

test('filters apply to linked files as to the pods layout, on what the file is (namespace, container)', async () => {
  const { dir, put, link, done } = sandbox();
  link(`containers/api-0_payments_api-${ID_A}.log`, put('pods/payments_api-0_6f1c0001/api/0.log'));
  put('pods/payments_api-0_6f1c0001/api/0.log.1');
  link(`containers/api-0_payments_istio-proxy-${ID_B}.log`, put('pods/payments_api-0_6f1c0001/istio-proxy/0.log'));
  link(`containers/dns-0_kube-system_coredns-${ID_C}.log`, put(`docker/${ID_C}/${ID_C}-json.log`));
  put(`docker/${ID_C}/${ID_C}-json.log.1`);
  const root = join(dir, 'containers');
  const names = (files: readonly { container: { namespace: string; container: string } }[]): string[] => files.map((f) => `${f.container.namespace}/${f.container.container}`);
  assert.deepEqual(names((await discoverLogFiles(root)).files), ['payments/api', 'payments/istio-proxy', 'kube-system/coredns'], 'in the order of the link names');
  const some = await discoverLogFiles(root, { excludeNamespaces: ['kube-system'], excludeContainers: ['istio-proxy'] });
  assert.deepEqual(names(some.files), ['payments/api']);
  assert.deepEqual(names(some.rotated), ['payments/api']);
  const only = await discoverLogFiles(root, { includeNamespaces: ['kube-system'] });
  assert.deepEqual(names(only.files), ['kube-system/coredns']);
  assert.deepEqual(names(only.rotated), ['kube-system/coredns']);
  assert.deepEqual(names((await discoverLogFiles(root, { includeContainers: ['istio-proxy'] })).files), ['payments/istio-proxy']);
  done();
});
