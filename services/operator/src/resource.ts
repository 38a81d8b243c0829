import type { ApplyResult } from '@tributary/apply';
import { API_VERSION, KIND, type ManifestError } from '@tributary/pipeline';

/** Marks a resource whose deletion waits until its tombstone is in `tributary.pipelines`. */
export const FINALIZER = 'tributary.dev/pipeline';

export interface Condition {
  readonly type: 'Accepted' | 'Ready';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

export interface LoggingPipelineStatus {
  readonly observedGeneration?: number;
  readonly acceptedVersion?: number;
  readonly conditions?: readonly Condition[];
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
}

/** A LoggingPipeline as the API server returns it; only what the operator reads. */
export interface LoggingPipelineResource {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string | Date;
    finalizers?: string[];
    labels?: Record<string, string>;
  };
  spec?: unknown;
  status?: LoggingPipelineStatus;
}

/** `<namespace>/<name>`, the key of the reconcile queue and of `tributary.pipelines`. */
export function resourceKey(resource: LoggingPipelineResource): string {
  return `${resource.metadata.namespace ?? ''}/${resource.metadata.name ?? ''}`;
}

/**
 * The manifest the apply chain checks: the resource's own kind, name, namespace and spec,
 * nothing the API server added (uid, managedFields, status), so `tributary apply` of the
 * same file and `kubectl apply` of it give the same pipeline. Labels are kept; annotations
 * are not (kubectl writes its last-applied copy there).
 */
export function manifestText(resource: LoggingPipelineResource): string {
  const { name, namespace, labels } = resource.metadata;
  return JSON.stringify(
    { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace, ...(labels && Object.keys(labels).length > 0 ? { labels } : {}) }, spec: resource.spec ?? {} },
    null,
    2,
  );
}

/** What the operator concluded from one pass of the apply chain. */
export type Outcome =
  | { readonly kind: 'applied'; readonly result: Extract<ApplyResult, { outcome: 'created' | 'updated' | 'unchanged' }> }
  | { readonly kind: 'rejected'; readonly stage: 'validation' | 'destination'; readonly errors: readonly ManifestError[]; readonly inForce: number | undefined };

/**
 * The status a resource should have after `outcome`. A condition keeps its
 * lastTransitionTime while its status stays the same, so two operators (or two passes)
 * computing the status of the same state compute the same status, and nothing flaps.
 */
export function desiredStatus(resource: LoggingPipelineResource, outcome: Outcome, now: Date): LoggingPipelineStatus {
  const generation = resource.metadata.generation ?? 0;
  const previous = resource.status?.conditions ?? [];
  const condition = (type: Condition['type'], status: Condition['status'], reason: string, message: string): Condition => {
    const before = previous.find((c) => c.type === type);
    const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
    return { type, status, reason, message, observedGeneration: generation, lastTransitionTime };
  };
  if (outcome.kind === 'applied') {
    const { version } = outcome.result;
    return {
      observedGeneration: generation,
      acceptedVersion: version,
      conditions: [
        condition('Accepted', 'True', 'Accepted', `generation ${generation} is version ${version} in tributary.pipelines`),
        condition('Ready', 'True', 'InForce', `version ${version} is in force`),
      ],
      errors: [],
    };
  }
  const { errors, inForce, stage } = outcome;
  const first = errors[0];
  const summary = first ? `${first.path || '(manifest)'}: ${first.reason}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}` : 'refused';
  const kept = inForce === undefined ? 'no version is in force' : `version ${inForce} stays in force`;
  return {
    observedGeneration: generation,
    ...(inForce === undefined ? {} : { acceptedVersion: inForce }),
    conditions: [
      condition('Accepted', 'False', stage === 'validation' ? 'Invalid' : 'DestinationCheckFailed', `${summary}; ${kept}`),
      inForce === undefined
        ? condition('Ready', 'False', 'NothingInForce', 'no version of this pipeline was ever accepted')
        : condition('Ready', 'True', 'PreviousVersionInForce', `${kept}; the change was refused`),
    ],
    errors: errors.map((e) => ({ path: e.path, reason: e.reason })),
  };
}

/** Whether writing `next` would change anything but transition times. */
export function statusDiffers(current: LoggingPipelineStatus | undefined, next: LoggingPipelineStatus): boolean {
  const strip = (s: LoggingPipelineStatus | undefined) =>
    JSON.stringify({
      observedGeneration: s?.observedGeneration,
      acceptedVersion: s?.acceptedVersion,
      conditions: [...(s?.conditions ?? [])].sort((a, b) => a.type.localeCompare(b.type)).map(({ type, status, reason, message, observedGeneration }) => ({ type, status, reason, message, observedGeneration })),
      errors: s?.errors ?? [],
    });
  return strip(current) !== strip(next);
}

/** Whether the resource's status already says its current generation was accepted as `version`. */
export function alreadyAccepted(resource: LoggingPipelineResource, version: number | undefined): boolean {
  const status = resource.status;
  if (version === undefined || !status || status.observedGeneration !== resource.metadata.generation || status.acceptedVersion !== version) return false;
  return status.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false;
}
