/**
 * The console's view of the control plane's HTTP API: every page reads and acts through the
 * same routes the CLI uses, with the signed-in token, so the console can never see or do
 * more than that token may through the API.
 */
import type { TrafficCounts } from '@tributary/kafka';

/** Who a token is, as the control plane's authenticator says. */
export type Principal = { readonly kind: 'tenant'; readonly tenant: string } | { readonly kind: 'admin' };

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly token: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiResponse {
  readonly status: number;
  /** The parsed JSON body, or undefined when there was none. */
  readonly body: unknown;
}

/** Calls the API in-process (Fastify's inject): no network hop, the same routes and checks. */
export type ApiCall = (request: ApiRequest) => Promise<ApiResponse>;

/**
 * Opens one of the API's Server-Sent Event streams (inject can't stream): its status and,
 * when 200, the body as it arrives; `signal` closes it.
 */
export type ApiStream = (request: { readonly url: string; readonly token: string }, signal: AbortSignal) => Promise<{ readonly status: number; readonly body: AsyncIterable<Uint8Array> | null }>;

/** A dead letter as the API gives it. */
export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: string;
  readonly key: string | null;
  readonly cause: { readonly class: string; readonly message: string; readonly pipeline?: string; readonly version?: number; readonly rule?: number; readonly topic: string; readonly partition: number; readonly offset: string; readonly firstFailure: string };
  readonly replayCount: number;
  readonly value: string | null;
  readonly valueBytes: number;
  readonly truncated: boolean;
}

export interface DeadLetterFilter {
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly class?: string | undefined;
  readonly pipeline?: string | undefined;
}

/** One sample line's outcome in a dry run (as `tributary dry-run` prints it). */
export type DryRunResult =
  | { readonly line: number; readonly outcome: 'document'; readonly index: string; readonly document: unknown }
  | { readonly line: number; readonly outcome: 'drop'; readonly step: string }
  | { readonly line: number; readonly outcome: 'deadLetter'; readonly class: string; readonly step: string; readonly message: string };

export interface ReplayResult {
  readonly matched: number;
  readonly replayed: number;
  readonly skipped: number;
  readonly scanned: number;
  /** Records the whole replay reads, and of those still to read. */
  readonly total: number;
  readonly remaining: number;
  readonly done: boolean;
  readonly resume?: string;
}

export interface ManifestError {
  readonly path: string;
  readonly reason: string;
  readonly line?: number;
  readonly col?: number;
}

export interface PipelineSummary {
  readonly name: string;
  readonly version: number | null;
  readonly appliedAt: string | null;
  readonly lastAttempt: { readonly at: string; readonly outcome: string } | null;
  readonly deadLettersLastHour: Readonly<Record<string, number>>;
  readonly notifications: readonly Delivery[];
}

/** A notification subscription's last delivery (`tributary.deliveries`). */
export interface Delivery {
  readonly pipeline: string;
  readonly subscription: number;
  readonly channel: string;
  readonly destination: string;
  readonly last: { readonly at: string; readonly outcome: string; readonly class: string; readonly count: number; readonly attempts: number; readonly status?: number; readonly reason?: string };
}

export interface TenantOverview {
  readonly tenant: string;
  readonly deadLettersLastHour: { readonly since: string; readonly total: number; readonly complete: boolean };
  readonly pipelines: readonly PipelineSummary[];
}

/** What a pipeline's records became over the last hour, as the processors count them (tributary.traffic). */
export type { TrafficCounts };

/** From Kafka's offsets: records in over the last hour, and what the processors still have to do; per pipeline, their counts. */
export interface TenantTraffic {
  readonly recordsLastHour: number;
  readonly lag: number;
  readonly partitions: number;
  readonly processors: number;
  /** Per pipeline (`''`: records no pipeline could read), over the last hour. */
  readonly pipelinesLastHour: Readonly<Record<string, TrafficCounts>>;
}

/** Every tenant at a glance, for the admin. */
export interface PlatformTraffic {
  readonly at: string;
  readonly processors: number;
  readonly tenants: ReadonlyArray<{
    readonly tenant: string;
    readonly lag: number;
    readonly partitions: number;
    readonly lastHour: TrafficCounts;
    readonly pipelinesInForce: ReadonlyArray<{ readonly name: string; readonly version: number }>;
  }>;
}

export interface PipelineInForce {
  readonly manifest: unknown;
  readonly version: number;
  readonly appliedAt: string;
}

export interface PipelineStatus {
  readonly accepted: { readonly version: number; readonly appliedAt: string } | null;
  readonly lastAttempt: { readonly at: string; readonly outcome: string; readonly version?: number; readonly errors: readonly ManifestError[]; readonly manifest?: string };
}

export type ApplyAnswer =
  | { readonly kind: 'applied'; readonly outcome: 'created' | 'updated' | 'unchanged'; readonly version: number }
  | { readonly kind: 'rejected'; readonly errors: readonly ManifestError[] }
  | { readonly kind: 'conflict'; readonly current: number }
  | { readonly kind: 'refused'; readonly status: number; readonly message: string };

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

export class ConsoleApi {
  constructor(
    private readonly call: ApiCall,
    private readonly token: string,
  ) {}

  /** Every tenant at a glance (admin token); undefined if the API refuses or can't say. */
  async platform(): Promise<PlatformTraffic | undefined> {
    const answer = await this.call({ method: 'GET', url: '/v1/traffic', token: this.token });
    return answer.status === 200 ? (answer.body as PlatformTraffic) : undefined;
  }

  /** The tenant's pipelines with their last change and dead letters; undefined if the API refuses. */
  async overview(tenant: string): Promise<{ status: number; overview?: TenantOverview }> {
    const answer = await this.call({ method: 'GET', url: `/v1/tenants/${path(tenant)}/status`, token: this.token });
    return answer.status === 200 ? { status: 200, overview: answer.body as TenantOverview } : { status: answer.status };
  }

  async traffic(tenant: string): Promise<TenantTraffic | undefined> {
    const answer = await this.call({ method: 'GET', url: `/v1/tenants/${path(tenant)}/traffic`, token: this.token });
    return answer.status === 200 ? (answer.body as TenantTraffic) : undefined;
  }

  async pipeline(tenant: string, name: string): Promise<{ status: number; inForce?: PipelineInForce; lastStatus?: PipelineStatus }> {
    const [inForce, status] = await Promise.all([
      this.call({ method: 'GET', url: `/v1/tenants/${path(tenant, 'pipelines', name)}`, token: this.token }),
      this.call({ method: 'GET', url: `/v1/tenants/${path(tenant, 'pipelines', name)}/status`, token: this.token }),
    ]);
    const refused = [inForce, status].find((a) => a.status !== 200 && a.status !== 404);
    if (refused) return { status: refused.status };
    return {
      status: inForce.status === 404 && status.status === 404 ? 404 : 200,
      ...(inForce.status === 200 ? { inForce: inForce.body as PipelineInForce } : {}),
      ...(status.status === 200 ? { lastStatus: status.body as PipelineStatus } : {}),
    };
  }

  /** The latest dead letters matching `filter`, newest first (at most `limit`); none before the tenant has a dead-letter topic. */
  async deadLetters(tenant: string, filter: DeadLetterFilter, limit = 100): Promise<{ status: number; deadLetters: readonly DeadLetter[]; errors?: readonly ManifestError[] }> {
    const query = new URLSearchParams({ ...(definedOnly(filter) as Record<string, string>), limit: String(limit), order: 'newest' });
    const answer = await this.call({ method: 'GET', url: `/v1/tenants/${path(tenant)}/deadletters?${query.toString()}`, token: this.token });
    if (answer.status === 200) return { status: 200, deadLetters: (answer.body as { deadLetters: DeadLetter[] }).deadLetters };
    return answer.status === 404 ? { status: 200, deadLetters: [] } : { status: answer.status, deadLetters: [], errors: errorsOf(answer) };
  }

  /** Replays dead letters matching `filter` into logs.<tenant> (or counts them, `dryRun`); `resume` goes on where the last call stopped. */
  async replay(tenant: string, request: DeadLetterFilter & { dryRun?: boolean; resume?: string | undefined; maxRecords?: number; deadLetters?: readonly string[] | undefined }): Promise<{ status: number; result?: ReplayResult; errors?: readonly ManifestError[] }> {
    const answer = await this.call({ method: 'POST', url: `/v1/tenants/${path(tenant)}/deadletters/replay`, token: this.token, body: JSON.stringify(definedOnly(request)), headers: { 'content-type': 'application/json' } });
    return answer.status === 200 ? { status: 200, result: answer.body as ReplayResult } : { status: answer.status, errors: errorsOf(answer) };
  }

  /** Validates `text` as an apply would, then runs it over the sample lines; nothing is applied. */
  async dryRun(tenant: string, text: string, lines: readonly string[]): Promise<{ valid: true; results: readonly DryRunResult[] } | { valid: false; errors: readonly ManifestError[]; status: number }> {
    const answer = await this.call({ method: 'POST', url: `/v1/tenants/${path(tenant)}/dry-run`, token: this.token, body: JSON.stringify({ manifest: text, lines }), headers: { 'content-type': 'application/json' } });
    if (answer.status === 200) return { valid: true, results: (answer.body as { results: DryRunResult[] }).results };
    return { valid: false, status: answer.status, errors: errorsOf(answer) };
  }

  async validate(tenant: string, text: string): Promise<{ valid: true } | { valid: false; errors: readonly ManifestError[]; status: number }> {
    const answer = await this.call({ method: 'POST', url: `/v1/tenants/${path(tenant)}/validate`, token: this.token, body: text, headers: { 'content-type': 'application/yaml' } });
    if (answer.status === 200) return { valid: true };
    return { valid: false, status: answer.status, errors: errorsOf(answer) };
  }

  /** `expectedVersion`: the version the edit started from (0 for a new pipeline), sent as If-Match. */
  async apply(tenant: string, name: string, text: string, expectedVersion: number): Promise<ApplyAnswer> {
    const answer = await this.call({
      method: 'PUT',
      url: `/v1/tenants/${path(tenant, 'pipelines', name)}`,
      token: this.token,
      body: text,
      headers: { 'content-type': 'application/yaml', 'if-match': String(expectedVersion) },
    });
    const body = answer.body as Record<string, unknown> | undefined;
    if (answer.status === 200 || answer.status === 201) return { kind: 'applied', outcome: body?.['outcome'] as 'created', version: Number(body?.['version']) };
    if (answer.status === 422) return { kind: 'rejected', errors: errorsOf(answer) };
    if (answer.status === 409) return { kind: 'conflict', current: Number(body?.['current']) };
    return { kind: 'refused', status: answer.status, message: messageOf(answer) };
  }
}

/** The entries whose value is set (URLSearchParams and JSON would keep "undefined"). */
function definedOnly<T extends object>(object: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== ''));
}

function errorsOf(answer: ApiResponse): readonly ManifestError[] {
  const errors = (answer.body as { errors?: ManifestError[] } | undefined)?.errors;
  return Array.isArray(errors) && errors.length > 0 ? errors : [{ path: '', reason: messageOf(answer) }];
}

function messageOf(answer: ApiResponse): string {
  const error = (answer.body as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? error : `the control plane answered ${answer.status}`;
}
