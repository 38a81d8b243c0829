import type { EngineName } from './types.js';

/** Kafka is ready when a client gets cluster metadata with a controller and a broker. */
export async function kafkaReady(brokers: readonly string[]): Promise<boolean> {
  // Loaded when first needed: a process that imports the testkit (the CLI does) must not load
  // kafkajs before @tributary/kafka has installed its lean produce path.
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const admin = new Kafka({
    clientId: 'tributary-testkit-health',
    brokers: [...brokers],
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Elasticsearch is ready at yellow. `GET /` is not served by every distribution we use. */
export async function elasticsearchReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
    signal: AbortSignal.timeout(3000),
  }).catch(() => undefined);
  if (!response?.ok) return false;
  const body = (await response.json()) as { status?: string };
  return body.status === 'green' || body.status === 'yellow';
}

/** The registry is ready when its Confluent-compatible subjects endpoint answers. */
export async function schemaRegistryReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  return response?.ok ?? false;
}

/**
 * A Kubernetes API server answers `/readyz` to the kubeconfig's identity. `informer-sync`
 * is left out: the API extension server never syncs the core informers it lacks.
 */
export async function kubernetesReady(kubeconfig: string): Promise<boolean> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { request } = await import('node:https');
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const cluster = config.getCurrentCluster();
  if (!cluster) return false;
  const options: import('node:https').RequestOptions = { timeout: 3000 };
  await config.applyToHTTPSOptions(options);
  return new Promise((resolve) => {
    const req = request(`${cluster.server}/readyz?exclude=informer-sync`, options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Whether the engine at `address` answers, by the same check `startEngines` waits for. */
export function engineAnswers(name: EngineName, address: string): Promise<boolean> {
  if (name === 'kafka') return kafkaReady(address.split(','));
  if (name === 'kubernetes') return kubernetesReady(address);
  return name === 'elasticsearch' ? elasticsearchReady(address) : schemaRegistryReady(address);
}
