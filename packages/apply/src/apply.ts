import {
  checkManifests,
  pipelineRecord,
  runPipelineTests,
  type CheckedPipeline,
  type ManifestError,
  type ManifestValidator,
  type PipelineRegistry,
} from '@tributary/pipeline';
import { REFUSED_MANIFEST_LIMIT, type PipelineStatus, type StatusBook } from './status.js';

/** What the apply chain needs from the outside world; the service wires real clients in. */
export interface ApplyDeps {
  readonly registry: PipelineRegistry;
  readonly statuses: StatusBook;
  readonly validator: ManifestValidator;
  /** Elasticsearch and Kafka checks for an otherwise valid pipeline; errors carry paths. */
  checkDestination(pipeline: CheckedPipeline): Promise<ManifestError[]>;
  /** Writes `tributary.pipelines` (null = tombstone) and waits for the broker's ack. */
  publishPipeline(key: string, value: string | null): Promise<void>;
  publishStatus(key: string, status: PipelineStatus): Promise<void>;
  now(): Date;
}

export interface ApplyRequest {
  readonly tenant: string;
  readonly name: string;
  /** The manifest as YAML or JSON text. */
  readonly text: string;
  /** `If-Match`: apply only if this is the version in force (0 = must not exist yet). */
  readonly expectedVersion?: number | undefined;
}

export type ApplyResult =
  | { readonly outcome: 'created' | 'updated' | 'unchanged'; readonly version: number }
  /** `stage`: `validation` (schema, compile, tests, scope: the same text fails the same way) or `destination` (may pass later). */
  | { readonly outcome: 'rejected'; readonly stage: 'validation' | 'destination'; readonly errors: readonly ManifestError[] }
  | { readonly outcome: 'conflict'; readonly current: number };

/** Only validation: schema, compile, the manifest's tests, scope. Nothing is contacted. */
export function validateManifest(
  deps: Pick<ApplyDeps, 'validator'>,
  request: { readonly tenant: string; readonly name?: string | undefined; readonly text: string },
): { pipeline?: CheckedPipeline; errors: ManifestError[] } {
  const { pipelines, errors } = checkManifests(request.text, { file: 'manifest', validator: deps.validator });
  if (errors.length > 0) return { errors };
  if (pipelines.length !== 1) return { errors: [{ path: '', reason: `expected exactly one LoggingPipeline document, got ${pipelines.length}` }] };
  const pipeline = pipelines[0] as CheckedPipeline;
  const { metadata } = pipeline.loaded.manifest;
  const scope: ManifestError[] = [];
  const at = (segments: string[]) => pipeline.loaded.locate(segments) ?? {};
  if (metadata.namespace !== request.tenant) {
    scope.push({ ...at(['metadata', 'namespace']), path: 'metadata.namespace', reason: `must be "${request.tenant}", the tenant this request is for` });
  }
  if (request.name !== undefined && metadata.name !== request.name) {
    scope.push({ ...at(['metadata', 'name']), path: 'metadata.name', reason: `must be "${request.name}", the pipeline this request is for` });
  }
  if (scope.length > 0) return { errors: scope };
  const failures = runPipelineTests(pipeline.loaded.manifest, pipeline.program).filter((result) => !result.passed);
  const testErrors = failures.map(
    (failure): ManifestError => ({
      ...at(['spec', 'tests', String(failure.index)]),
      path: `spec.tests[${failure.index}]`,
      reason: `test "${failure.name}" failed: ${failure.mismatches
        .map((m) => `${m.what}: expected ${JSON.stringify(m.expected)}, got ${m.actual === undefined ? 'nothing' : JSON.stringify(m.actual)}`)
        .join('; ')}`,
    }),
  );
  return testErrors.length > 0 ? { errors: testErrors } : { pipeline, errors: [] };
}

/**
 * The apply chain: validate → destination checks → publish → status. Any failing step
 * publishes nothing to `tributary.pipelines`: the version in force stays, and the errors
 * are returned and recorded in the status.
 */
export async function applyManifest(deps: ApplyDeps, request: ApplyRequest): Promise<ApplyResult> {
  const key = `${request.tenant}/${request.name}`;
  const current = deps.registry.get(request.tenant, request.name);
  const currentVersion = current?.version ?? 0;
  if (request.expectedVersion !== undefined && request.expectedVersion !== currentVersion) {
    return { outcome: 'conflict', current: currentVersion };
  }
  const accepted = current ? { version: current.version, appliedAt: current.appliedAt } : null;
  const at = deps.now().toISOString();
  const reject = async (errors: ManifestError[], stage: 'validation' | 'destination'): Promise<ApplyResult> => {
    const manifest = Buffer.byteLength(request.text) <= REFUSED_MANIFEST_LIMIT ? { manifest: request.text } : {};
    await deps.publishStatus(key, { tenant: request.tenant, name: request.name, accepted, lastAttempt: { at, outcome: 'rejected', errors, ...manifest } });
    return { outcome: 'rejected', stage, errors };
  };

  const { pipeline, errors } = validateManifest(deps, request);
  if (!pipeline) return reject(errors, 'validation');
  if (current && canonical(current.manifest) === canonical(pipeline.loaded.manifest)) {
    await deps.publishStatus(key, { tenant: request.tenant, name: request.name, accepted, lastAttempt: { at, outcome: 'unchanged', version: current.version, errors: [] } });
    return { outcome: 'unchanged', version: current.version };
  }
  const destinationErrors = await deps.checkDestination(pipeline);
  if (destinationErrors.length > 0) return reject(destinationErrors, 'destination');

  const version = currentVersion + 1;
  const record = pipelineRecord(pipeline.loaded.manifest, version, at);
  await deps.publishPipeline(record.key, record.value);
  // Read-your-writes: the view would catch up a moment later; the registry ignores the replay.
  deps.registry.update(record.key, record.value);
  await deps.publishStatus(key, {
    tenant: request.tenant,
    name: request.name,
    accepted: { version, appliedAt: at },
    lastAttempt: { at, outcome: 'accepted', version, errors: [] },
  });
  return { outcome: current ? 'updated' : 'created', version };
}

/** Deletes a pipeline: a tombstone in `tributary.pipelines`. False if there was none. */
export async function deletePipeline(deps: ApplyDeps, tenant: string, name: string): Promise<boolean> {
  const key = `${tenant}/${name}`;
  if (!deps.registry.get(tenant, name)) return false;
  await deps.publishPipeline(key, null);
  deps.registry.update(key, null);
  await deps.publishStatus(key, { tenant, name, accepted: null, lastAttempt: { at: deps.now().toISOString(), outcome: 'deleted', errors: [] } });
  return true;
}

/** JSON with sorted keys, so key order in a manifest doesn't make an identical spec "new". */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
