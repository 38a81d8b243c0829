import {
  ApiextensionsV1Api,
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  ListWatch,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { CRD_GROUP, CRD_NAME, CRD_PLURAL, CRD_VERSION, loggingPipelineCrd } from '@tributary/pipeline';
import { retryDelay } from '@tributary/retry';
import type { LoggingPipelineResource, LoggingPipelineStatus } from './resource.js';

/** Reads a kubeconfig: the file given, else `KUBECONFIG` / ~/.kube/config, else the in-cluster service account. */
export function loadKubeConfig(file?: string): KubeConfig {
  const config = new KubeConfig();
  if (file) config.loadFromFile(file);
  else config.loadFromDefault();
  return config;
}

/** The HTTP status of a failed Kubernetes call, if it got that far. */
export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.statusCode ?? (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Installs (or updates) the LoggingPipeline CRD, the same one as `deploy/crds/`, and waits
 * until the API server serves it. For the local run and tests; a cluster installs the file.
 */
export async function ensureCrd(config: KubeConfig, timeoutMs = 30_000): Promise<void> {
  const api = config.makeApiClient(ApiextensionsV1Api);
  const body = loggingPipelineCrd() as never;
  try {
    await api.createCustomResourceDefinition({ body });
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
    const existing = await api.readCustomResourceDefinition({ name: CRD_NAME });
    await api.replaceCustomResourceDefinition({ name: CRD_NAME, body: { ...(body as object), metadata: { name: CRD_NAME, resourceVersion: existing.metadata?.resourceVersion } } as never });
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name: CRD_NAME });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
    if (Date.now() > deadline) throw new Error(`${CRD_NAME} not established after ${timeoutMs} ms: ${JSON.stringify(crd.status?.conditions ?? [])}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Right after Established, the resource endpoint can answer 429 "storage is (re)initializing" for a moment.
  const objects = config.makeApiClient(CustomObjectsApi);
  for (;;) {
    try {
      await objects.listClusterCustomObject({ group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL });
      return;
    } catch (err) {
      if (Date.now() > deadline || ![404, 429, 503].includes(statusCode(err) ?? 0)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The calls the operator makes on LoggingPipeline resources, and Events where the cluster serves them. */
export class LoggingPipelineApi {
  private readonly objects: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private eventsServed = true;

  constructor(
    config: KubeConfig,
    private readonly logger: Logger,
  ) {
    this.objects = config.makeApiClient(CustomObjectsApi);
    this.core = config.makeApiClient(CoreV1Api);
  }

  /** Replaces `.status` through the status subresource (a merge patch: the operator owns all of it). */
  async patchStatus(resource: LoggingPipelineResource, status: LoggingPipelineStatus): Promise<void> {
    await this.objects.patchNamespacedCustomObjectStatus(
      { ...this.coordinates(resource), body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /**
   * Sets the finalizers, only if the resource is still at the resourceVersion read (else
   * 409: the queue retries with the newer object), and returns the updated resource.
   */
  async setFinalizers(resource: LoggingPipelineResource, finalizers: string[]): Promise<LoggingPipelineResource> {
    return (await this.objects.patchNamespacedCustomObject(
      { ...this.coordinates(resource), body: { metadata: { finalizers, resourceVersion: resource.metadata.resourceVersion } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as LoggingPipelineResource;
  }

  /**
   * Records a Kubernetes Event on the resource, best effort: a cluster that doesn't serve
   * Events (the API extension server of the tests) is told once and never again.
   */
  async event(resource: LoggingPipelineResource, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    if (!this.eventsServed) return;
    const namespace = resource.metadata.namespace ?? 'default';
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${resource.metadata.name}.`, namespace },
          involvedObject: {
            apiVersion: `${CRD_GROUP}/${CRD_VERSION}`,
            kind: 'LoggingPipeline',
            name: resource.metadata.name ?? '',
            namespace,
            uid: resource.metadata.uid ?? '',
            resourceVersion: resource.metadata.resourceVersion ?? '',
          },
          type,
          reason,
          // Events are capped at 1 KiB of message by convention; errors can be long.
          message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component: 'tributary-operator' },
          reportingComponent: 'tributary-operator',
        },
      });
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) {
        this.eventsServed = false;
        this.logger.info('this cluster serves no Events API: outcomes are reported in .status only');
      } else {
        this.logger.warn({ code, err: (err as Error).message }, 'could not record an Event');
      }
    }
  }

  private coordinates(resource: LoggingPipelineResource) {
    return { group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, namespace: resource.metadata.namespace ?? '', name: resource.metadata.name ?? '' };
  }
}

export interface PipelineWatchOptions {
  readonly config: KubeConfig;
  /** Watch only these namespaces (one watch each); default every namespace (one watch). */
  readonly namespaces?: readonly string[] | undefined;
  readonly logger: Logger;
  /** A resource was added, changed or deleted; `gone` carries the last state of a deleted one. */
  readonly onChange: (key: string, gone?: LoggingPipelineResource) => void;
  /** A watch failed and will be started again after `delayMs`. */
  readonly onRestart?: (delayMs: number) => void;
  /**
   * How long one watch request lasts before it is renewed (resuming from its
   * resourceVersion); default a random 5–10 minutes per request, as client-go does.
   */
  readonly watchTimeoutSeconds?: number;
}

/**
 * A watch request that ends itself. The API server is asked to close it after
 * `timeoutSeconds`; if that close never comes (the connection died without a FIN or RST,
 * which TCP keepalive would notice only after many minutes, while every change went
 * unseen), it is aborted a little later. Either way it ends as a renewal, not a failure:
 * the informer watches again from its resourceVersion, which bookmarks keep fresh, so
 * nothing is missed and nothing is listed again.
 */
class RenewingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly timeoutSeconds: () => number,
  ) {
    super(config);
  }

  override async watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    const seconds = this.timeoutSeconds();
    let ended = false;
    let expired = false;
    let deadline: NodeJS.Timeout | undefined;
    const controller = await super.watch(path, { ...queryParams, timeoutSeconds: seconds, allowWatchBookmarks: true }, callback, (err: unknown) => {
      ended = true;
      clearTimeout(deadline);
      done(expired ? null : err);
    });
    if (!ended) {
      deadline = setTimeout(() => {
        expired = true;
        controller.abort();
      }, (seconds + Math.max(5, seconds / 10)) * 1000);
      deadline.unref();
    }
    return controller;
  }
}

type Watched = Informer<KubernetesObject & LoggingPipelineResource> & ObjectCache<KubernetesObject & LoggingPipelineResource>;

interface WatchEntry {
  readonly informer: Watched;
  listed: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
}

/**
 * Lists and watches LoggingPipelines with client-node's informer, which resumes each watch
 * from the last resourceVersion it saw and lists again on 410 Gone; each watch request is
 * renewed every few minutes (`RenewingWatch`), so a connection that died silently costs
 * minutes at most. When a watch fails (the API server went away), it is started again
 * with a jittered backoff, resuming where it was; the objects seen so far stay in the cache meanwhile, and the list after a restart
 * tells which were deleted.
 */
export class PipelineWatch {
  private readonly informers: WatchEntry[] = [];
  private stopped = false;

  constructor(private readonly options: PipelineWatchOptions) {
    const objects = options.config.makeApiClient(CustomObjectsApi);
    const scopes = options.namespaces && options.namespaces.length > 0 ? options.namespaces : [undefined];
    for (const namespace of scopes) {
      const base = `/apis/${CRD_GROUP}/${CRD_VERSION}`;
      const path = namespace ? `${base}/namespaces/${namespace}/${CRD_PLURAL}` : `${base}/${CRD_PLURAL}`;
      // What the list reports; becomes the entry (same object) once its informer exists.
      const progress: { listed: boolean; failures: number } = { listed: false, failures: 0 };
      const list = async () => {
        const coordinates = { group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL };
        const result = namespace ? await objects.listNamespacedCustomObject({ ...coordinates, namespace }) : await objects.listClusterCustomObject(coordinates);
        progress.listed = true;
        progress.failures = 0;
        return result as { items: Array<KubernetesObject & LoggingPipelineResource>; metadata?: { resourceVersion?: string } };
      };
      const timeout = () => options.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
      // The informer types want a generated client's list; a custom resource's list has the same shape.
      const informer = new ListWatch(path, new RenewingWatch(options.config, timeout), list as never, false) as Watched;
      const entry: WatchEntry = Object.assign(progress, { informer });
      const key = (o: LoggingPipelineResource) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
      entry.informer.on('add', (o) => options.onChange(key(o)));
      entry.informer.on('update', (o) => options.onChange(key(o)));
      entry.informer.on('delete', (o) => options.onChange(key(o), o));
      entry.informer.on('error', (err: unknown) => this.restart(entry, err, namespace));
      this.informers.push(entry);
    }
  }

  /** Starts every watch; resolves once each has listed (retrying until then), or on stop(). */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((entry) => entry.informer.start()));
    while (!this.stopped && !this.synced) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Whether every watch has listed at least once (its cache holds every resource). */
  get synced(): boolean {
    return this.informers.every((entry) => entry.listed);
  }

  get(key: string): LoggingPipelineResource | undefined {
    const [namespace, name] = key.split('/');
    for (const { informer } of this.informers) {
      const found = informer.get(name ?? '', namespace);
      if (found) return found;
    }
    return undefined;
  }

  keys(): string[] {
    return this.informers.flatMap(({ informer }) => informer.list().map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.informers) {
      clearTimeout(entry.timer);
      // Stopping aborts the watch request, which the informer reports as an error: ignored, as stopped.
      await entry.informer.stop().catch(() => undefined);
    }
  }

  private restart(entry: WatchEntry, err: unknown, namespace: string | undefined): void {
    if (this.stopped) return;
    entry.failures += 1;
    // Capped low: an API server back from an outage should be seen within seconds, and a watch is one request.
    const delayMs = retryDelay(entry.failures, { initialMs: 500, maxMs: 10_000 });
    this.options.logger.warn({ namespace: namespace ?? '*', err: (err as Error)?.message ?? String(err), delayMs }, 'LoggingPipeline watch failed; starting it again');
    this.options.onRestart?.(delayMs);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (!this.stopped) void entry.informer.start().catch(() => undefined);
    }, delayMs);
    entry.timer.unref();
  }
}
