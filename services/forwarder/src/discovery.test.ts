import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
