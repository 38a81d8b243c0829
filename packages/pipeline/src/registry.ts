import { choosePipeline, compilePipeline, type PipelineProgram } from './compile/pipeline.js';
import type { StreamIdentity } from './compile/select.js';
import { formatPath } from './manifest/errors.js';
import { ManifestValidator } from './manifest/validate.js';
import type { LoggingPipeline } from './spec/manifest.js';
import { isRfc3339Time } from './rfc3339.js';

/** A pipeline in force: what `tributary.pipelines` holds for one key, compiled. */
export interface RegisteredPipeline {
  readonly tenant: string;
  readonly name: string;
  readonly manifest: LoggingPipeline;
  /** Starts at 1 and grows by one with each accepted apply of the pipeline. */
  readonly version: number;
  /** RFC 3339 time the control plane accepted this version. */
  readonly appliedAt: string;
  readonly program: PipelineProgram;
}

/** What changed: a pipeline now in force at `version`, or deleted (`version: null`). */
export interface PipelineChange {
  readonly tenant: string;
  readonly name: string;
  readonly version: number | null;
}

export type UpdateResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface PipelineRegistryOptions {
  /** Share one validator between registries and callers; compiling the schema takes milliseconds. */
  readonly validator?: ManifestValidator;
  /** Where an exception thrown by an onChange listener goes; it never reaches update()'s caller. */
  readonly onListenerError?: (err: unknown, change: PipelineChange) => void;
}

/** The record of `tributary.pipelines` for one accepted version of a pipeline. */
export function pipelineRecord(manifest: LoggingPipeline, version: number, appliedAt: string): { key: string; value: string } {
  return { key: `${manifest.metadata.namespace}/${manifest.metadata.name}`, value: JSON.stringify({ manifest, version, appliedAt }) };
}

/** `<tenant>/<name>` → its parts, or undefined when the key doesn't have that shape. */
export function parsePipelineKey(key: string): { readonly tenant: string; readonly name: string } | undefined {
  const match = /^([^/]+)\/([^/]+)$/.exec(key);
  return match?.[1] && match[2] ? { tenant: match[1], name: match[2] } : undefined;
}

const NO_PROGRAMS: readonly PipelineProgram[] = Object.freeze([]);

/**
 * Every tenant's pipelines in force, fed the records of `tributary.pipelines` in log
 * order. Pure: whoever reads the topic calls update(); the processor asks choose().
 *
 * A record that doesn't parse, validate or compile leaves the last good version of its
 * pipeline in force (last known good configuration): a bad record must never take a
 * tenant's processing down. Each tenant's program list is a frozen array replaced whole,
 * so a batch that read it before a change finishes on the programs it started with.
 */
export class PipelineRegistry {
  private readonly validator: ManifestValidator;
  private readonly byTenant = new Map<string, Map<string, RegisteredPipeline>>();
  private readonly programsByTenant = new Map<string, readonly PipelineProgram[]>();
  private readonly listeners = new Set<(change: PipelineChange) => void>();

  constructor(private readonly options: PipelineRegistryOptions = {}) {
    this.validator = options.validator ?? new ManifestValidator();
  }

  /** Applies one record (`null` = tombstone). Never throws; a rejected record changes nothing. */
  update(key: string, value: Buffer | string | null): UpdateResult {
    const parsedKey = parsePipelineKey(key);
    if (!parsedKey) return { ok: false, reason: `key "${key}" is not <tenant>/<name>` };
    const { tenant, name } = parsedKey;
    const held = this.byTenant.get(tenant)?.get(name);
    if (value === null) {
      if (held) this.replace(tenant, name, undefined);
      return { ok: true };
    }
    const record = parseRecord(typeof value === 'string' ? value : value.toString('utf8'));
    if (!record.ok) return record;
    // Replays (a restarted reader, or our own write coming back) must not recompile or go back in time.
    if (held && record.version <= held.version) return { ok: true };

    const schemaErrors = this.validator.check(record.manifest);
    if (schemaErrors.length > 0) {
      return { ok: false, reason: `manifest is invalid: ${schemaErrors.map((e) => `${formatPath(e.segments) || '(document)'}: ${e.reason}`).join('; ')}` };
    }
    const manifest = record.manifest as LoggingPipeline;
    const expectedKey = `${manifest.metadata.namespace}/${manifest.metadata.name}`;
    // The key decides which tenant's list a pipeline joins; it must agree with the manifest.
    if (expectedKey !== key) return { ok: false, reason: `key "${key}" does not match the manifest's "${expectedKey}"` };
    const compiled = compilePipeline(manifest, { version: record.version });
    if (!compiled.ok) {
      return { ok: false, reason: `manifest does not compile: ${compiled.errors.map((e) => `${formatPath(e.segments)}: ${e.reason}`).join('; ')}` };
    }
    const entry: RegisteredPipeline = Object.freeze({ tenant, name, manifest, version: record.version, appliedAt: record.appliedAt, program: compiled.value });
    this.replace(tenant, name, entry);
    return { ok: true };
  }

  /** The tenant's programs in force, by name; the array never changes once returned. */
  programs(tenant: string): readonly PipelineProgram[] {
    return this.programsByTenant.get(tenant) ?? NO_PROGRAMS;
  }

  /** The program a record of `stream` goes to, or undefined for the tenant's default index. */
  choose(tenant: string, stream: StreamIdentity): PipelineProgram | undefined {
    return choosePipeline(this.programs(tenant), stream);
  }

  get(tenant: string, name: string): RegisteredPipeline | undefined {
    return this.byTenant.get(tenant)?.get(name);
  }

  /** The pipelines in force, of one tenant or of all, by tenant then name. */
  list(tenant?: string): readonly RegisteredPipeline[] {
    const tenants = tenant === undefined ? [...this.byTenant.keys()].sort() : [tenant];
    return tenants.flatMap((t) => [...(this.byTenant.get(t)?.values() ?? [])].sort(byName));
  }

  /** Calls `listener` after every change in force; returns the unsubscribe function. */
  onChange(listener: (change: PipelineChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private replace(tenant: string, name: string, entry: RegisteredPipeline | undefined): void {
    let pipelines = this.byTenant.get(tenant);
    if (entry) {
      if (!pipelines) this.byTenant.set(tenant, (pipelines = new Map()));
      pipelines.set(name, entry);
    } else {
      pipelines?.delete(name);
    }
    if (pipelines && pipelines.size > 0) {
      this.programsByTenant.set(tenant, Object.freeze([...pipelines.values()].sort(byName).map((p) => p.program)));
    } else {
      this.byTenant.delete(tenant);
      this.programsByTenant.delete(tenant);
    }
    this.notify({ tenant, name, version: entry?.version ?? null });
  }

  private notify(change: PipelineChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        // The state already changed; one listener's bug must not hide it from the others.
        this.options.onListenerError?.(err, change);
      }
    }
  }
}

function byName(a: RegisteredPipeline, b: RegisteredPipeline): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

type ParsedRecord = { ok: true; manifest: unknown; version: number; appliedAt: string } | { ok: false; reason: string };

/** The envelope of a record: `{ manifest, version, appliedAt }`; the manifest is checked by the caller. */
function parseRecord(text: string): ParsedRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `value is not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'value is not a JSON object' };
  const { manifest, version, appliedAt } = value as Record<string, unknown>;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    return { ok: false, reason: `version must be a positive integer, got ${JSON.stringify(version) ?? 'nothing'}` };
  }
  if (typeof appliedAt !== 'string' || !isRfc3339Time(appliedAt)) {
    return { ok: false, reason: `appliedAt must be an RFC 3339 time, got ${JSON.stringify(appliedAt) ?? 'nothing'}` };
  }
  if (manifest === undefined) return { ok: false, reason: 'manifest is missing' };
  return { ok: true, manifest, version, appliedAt };
}
