import { Client } from '@elastic/elasticsearch';

export interface ElasticsearchOptions {
  /** Base URL, e.g. `http://127.0.0.1:9200`. */
  readonly url: string;
  /** Milliseconds per request before it is retried or failed. */
  readonly requestTimeout?: number;
  /** Retries of a request on connection errors and 502/503/504. */
  readonly maxRetries?: number;
  readonly auth?: { readonly username: string; readonly password: string } | { readonly apiKey: string };
}

/** A configuration fault: the URL can't be used. */
export class InvalidElasticsearchUrlError extends Error {
  readonly code = 'TRIBUTARY_INVALID_ELASTICSEARCH_URL';
  constructor(readonly input: string, reason: string) {
    super(`ELASTICSEARCH_URL "${input}": ${reason}`);
    this.name = 'InvalidElasticsearchUrlError';
  }
}

/** Builds the official client (8.x: 9.x needs Node 22) with Tributary's defaults. */
export function createElasticsearch(options: ElasticsearchOptions): Client {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new InvalidElasticsearchUrlError(options.url, 'not a URL (expected http(s)://host:port)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidElasticsearchUrlError(options.url, `protocol must be http or https, got ${url.protocol}`);
  }
  return new Client({
    node: options.url,
    requestTimeout: options.requestTimeout ?? 30_000,
    maxRetries: options.maxRetries ?? 3,
    ...(options.auth ? { auth: options.auth } : {}),
  });
}

export interface ClusterHealth {
  readonly status: 'green' | 'yellow' | 'red';
  readonly clusterName: string;
  readonly nodes: number;
}

/**
 * Waits for the cluster to be at least yellow. Uses `_cluster/health` because `GET /`
 * (ping/info) is not served by every distribution we run against.
 */
export async function clusterHealth(client: Client, timeoutMs = 10_000): Promise<ClusterHealth> {
  const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: `${timeoutMs}ms` });
  return { status: health.status.toLowerCase() as ClusterHealth['status'], clusterName: health.cluster_name, nodes: health.number_of_nodes };
}
