/**
 * The LoggingPipeline watch against a real API server, through a relay that can go silent:
 * its open connections stop passing bytes without being closed or reset, as when a NAT
 * entry expires or a load balancer drops a flow. TCP keepalive never notices (the relay's
 * kernel answers the probes), so only the watch's own renewal finds the changes made
 * meanwhile.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION } from '@tributary/pipeline';
import { eventually, startLocalKubernetes, uniqueName, type LocalKubernetes } from '@tributary/testkit';
import { ensureCrd, loadKubeConfig, PipelineWatch } from '../index.js';

const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
const namespace = uniqueName('team-watch');
let kubernetes: LocalKubernetes;
let objects: CustomObjectsApi;
let relay: Relay;
let dir: string;

interface Relay {
  readonly port: number;
  /** Connections made through it so far. */
  readonly connections: number;
  /** From now on the open connections pass nothing and stay open; new ones pass. */
  silence(): void;
  stop(): Promise<void>;
}

async function startRelay(to: URL): Promise<Relay> {
  const pairs = new Set<{ client: Socket; upstream: Socket; silent: boolean }>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(Number(to.port), to.hostname);
    const pair = { client, upstream, silent: false };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      // A silent connection's end is not passed on either.
      if (pair.silent) return;
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    silence() {
      for (const pair of pairs) {
        pair.silent = true;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
      }
    },
    async stop() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const resource = (name: string) => ({
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'LoggingPipeline',
  metadata: { name, namespace },
  spec: { parse: [{ json: {} }], output: { elasticsearch: { index: name } } },
});

before(async () => {
  kubernetes = await startLocalKubernetes({ logger });
  const config = loadKubeConfig(kubernetes.kubeconfig);
  await ensureCrd(config);
  objects = config.makeApiClient(CustomObjectsApi);
  relay = await startRelay(new URL(kubernetes.server));
  dir = mkdtempSync(join(tmpdir(), 'tributary-watch-'));
});

after(async () => {
  await relay?.stop();
  await kubernetes?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('each watch request is renewed without a failure, and a connection gone silent costs its timeout, not the changes made meanwhile', { timeout: 120_000 }, async () => {
  // The operator's kubeconfig, pointed at the relay (the serving certificate is for 127.0.0.1, any port).
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, readFileSync(kubernetes.kubeconfig, 'utf8').replaceAll(kubernetes.server, `https://127.0.0.1:${relay.port}`));
  const seen: string[] = [];
  let restarts = 0;
  const watch = new PipelineWatch({
    config: loadKubeConfig(file),
    namespaces: [namespace],
    logger,
    watchTimeoutSeconds: 2,
    onChange: (key) => seen.push(key),
    onRestart: () => restarts++,
  });
  await watch.start();
  try {
    await objects.createNamespacedCustomObject({ group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, namespace, body: resource('first') });
    await eventually('the first resource seen', () => seen.includes(`${namespace}/first`), 15_000);

    // Quiet for a while: the API server ends each request after 2 s and the watch goes on.
    const before = relay.connections;
    await new Promise((resolve) => setTimeout(resolve, 7000));
    assert.ok(relay.connections - before >= 2, `renewed: ${relay.connections - before} new connections in 7 s`);
    assert.equal(restarts, 0, 'a renewal is not a failure');

    // Now the watch's connection goes silent, and a change is made past it.
    relay.silence();
    const changedAt = Date.now();
    await objects.createNamespacedCustomObject({ group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, namespace, body: resource('second') });
    // The silent request is given up at 2 s + 5 s; the next one, through a fresh connection, sees the change.
    await eventually('the change made while the connection was silent seen', () => seen.includes(`${namespace}/second`), 20_000);
    const tookMs = Date.now() - changedAt;
    assert.ok(tookMs < 15_000, `seen ${tookMs} ms after the change`);
    assert.equal(restarts, 0, 'given up by its own deadline, not counted as a failure');
    assert.deepEqual(watch.keys().sort(), [`${namespace}/first`, `${namespace}/second`]);
  } finally {
    await watch.stop();
  }
});
