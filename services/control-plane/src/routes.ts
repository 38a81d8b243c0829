import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseTenant, type FieldError } from '@tributary/tenant';
import { applyManifest, deletePipeline, validateManifest, type ApplyDeps, type ApplyResult } from '@tributary/apply';
import { dryRunLine } from '@tributary/pipeline';
import { mayAccess, type TokenAuthenticator } from './auth.js';
import { errorClass, type ControlPlaneMetrics } from './metrics.js';
import { OPENAPI } from './openapi.js';
import type { PlatformTraffic } from './dead-letter-routes.js';

export interface RouteDeps {
  readonly apply: ApplyDeps;
  readonly auth: TokenAuthenticator;
  readonly metrics: ControlPlaneMetrics;
  /** True once the views have caught up with Kafka. */
  readonly ready: () => boolean;
  /** Every tenant at a glance (`GET /v1/traffic`). */
  readonly platformTraffic: () => Promise<PlatformTraffic>;
}

export type TenantParams = { tenant: string; name?: string };

/** The HTTP API; see openapi.ts. Every tenant route authenticates, then checks the tenant. */
export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const locks = new KeyedLock();

  // Manifests arrive as YAML or JSON text; both go to the same loader, which knows positions.
  for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain', 'application/json']) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 512 * 1024 }, (_req, body, done) => done(null, body));
  }

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (deps.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'loading state from Kafka' })));
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));
  app.get('/openapi.json', async () => OPENAPI);

  const guard = tenantGuard(deps);

  // The admin's view of who is on the platform: every tenant with a pipeline, or an attempt at one.
  app.get('/v1/tenants', async (request, reply) => {
    if (!(await adminOnly(deps, request, reply, 'lists tenants'))) return reply;
    const tenants = new Set([...deps.apply.registry.list().map((p) => p.tenant), ...deps.apply.statuses.tenants()]);
    return { tenants: [...tenants].sort() };
  });

  // The admin's glance: every tenant's lag and last hour in one answer, so a page of them costs one.
  app.get('/v1/traffic', async (request, reply) => {
    if (!(await adminOnly(deps, request, reply, 'sees every tenant'))) return reply;
    if (!deps.ready()) return reply.code(503).send({ error: 'loading state from Kafka' });
    return deps.platformTraffic();
  });

  app.get<{ Params: TenantParams }>('/v1/tenants/:tenant/pipelines', async (request, reply) => {
    const tenant = await guard(request, reply);
    if (!tenant) return reply;
    const pipelines = deps.apply.registry.list(tenant).map((p) => ({ name: p.manifest.metadata.name, version: p.version, appliedAt: p.appliedAt }));
    return { pipelines };
  });

  app.get<{ Params: TenantParams & { name: string } }>('/v1/tenants/:tenant/pipelines/:name', async (request, reply) => {
    const tenant = await guard(request, reply);
    if (!tenant) return reply;
    const pipeline = deps.apply.registry.get(tenant, request.params.name);
    if (!pipeline) return reply.code(404).send({ error: `no pipeline ${tenant}/${request.params.name}` });
    return { manifest: pipeline.manifest, version: pipeline.version, appliedAt: pipeline.appliedAt };
  });

  app.get<{ Params: TenantParams & { name: string } }>('/v1/tenants/:tenant/pipelines/:name/status', async (request, reply) => {
    const tenant = await guard(request, reply);
    if (!tenant) return reply;
    const status = deps.apply.statuses.get(tenant, request.params.name);
    return status ?? reply.code(404).send({ error: `no pipeline ${tenant}/${request.params.name} was ever applied` });
  });

  app.post<{ Params: TenantParams; Body: unknown }>('/v1/tenants/:tenant/validate', async (request, reply) => {
    const tenant = await guard(request, reply);
    if (!tenant) return reply;
    const { errors } = validateManifest(deps.apply, { tenant, text: bodyText(request.body) });
    count(deps.metrics, tenant, errors);
    return errors.length > 0 ? reply.code(422).send({ valid: false, errors }) : { valid: true };
  });

  // Try before apply: the manifest validated as for an apply, then run over sample lines.
  app.post<{ Params: TenantParams; Body: unknown }>('/v1/tenants/:tenant/dry-run', async (request, reply) => {
    const tenant = await guard(request, reply);
    if (!tenant) return reply;
    const body = parseDryRun(bodyText(request.body));
    if ('errors' in body) return reply.code(400).send({ errors: body.errors });
    const { pipeline, errors } = validateManifest(deps.apply, { tenant, text: body.manifest });
    if (!pipeline) return reply.code(422).send({ valid: false, errors });
    return { valid: true, results: body.lines.map((line, i) => dryRunLine(pipeline.program, { message: line }, i + 1)) };
  });

  app.put<{ Params: TenantParams & { name: string }; Body: unknown }>('/v1/tenants/:tenant/pipelines/:name', async (request, reply) => {
    const tenant = await guard(request, reply);
    if (!tenant) return reply;
    const ifMatch = request.headers['if-match'];
    const expectedVersion = ifMatch === undefined ? undefined : Number(String(ifMatch).replace(/"/g, ''));
    if (expectedVersion !== undefined && !Number.isSafeInteger(expectedVersion)) {
      return reply.code(400).send({ errors: [{ path: 'If-Match', reason: 'must be a version number' }] });
    }
    const key = `${tenant}/${request.params.name}`;
    // One apply per pipeline at a time in this instance; If-Match guards against the others.
    const result: ApplyResult = await locks.run(key, () =>
      applyManifest(deps.apply, { tenant, name: request.params.name, text: bodyText(request.body), expectedVersion }),
    );
    deps.metrics.applies.inc({ tenant, outcome: result.outcome });
    switch (result.outcome) {
      case 'rejected':
        count(deps.metrics, tenant, result.errors);
        return reply.code(422).send({ outcome: 'rejected', errors: result.errors });
      case 'conflict':
        return reply.code(409).send({ outcome: 'conflict', current: result.current, error: `version ${result.current} is in force, not ${expectedVersion}` });
      case 'created':
        return reply.code(201).header('etag', String(result.version)).send(result);
      default:
        return reply.header('etag', String(result.version)).send(result);
    }
  });

  app.delete<{ Params: TenantParams & { name: string } }>('/v1/tenants/:tenant/pipelines/:name', async (request, reply) => {
    const tenant = await guard(request, reply);
    if (!tenant) return reply;
    const key = `${tenant}/${request.params.name}`;
    const deleted = await locks.run(key, () => deletePipeline(deps.apply, tenant, request.params.name));
    return deleted ? reply.code(204).send() : reply.code(404).send({ error: `no pipeline ${key}` });
  });
}

/**
 * Authenticates a tenant route: a valid tenant (and pipeline name), a token for that tenant
 * (or the admin's), state loaded. Resolves with the tenant, or undefined once it has answered.
 */
/** Authenticates an admin-only request; false once it has answered (401, 403). */
export async function adminOnly(deps: Pick<RouteDeps, 'auth' | 'metrics'>, request: FastifyRequest, reply: FastifyReply, what: string): Promise<boolean> {
  const principal = deps.auth.authenticate(request.headers.authorization);
  if (!principal) {
    deps.metrics.authFailures.inc({ status: '401' });
    await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a bearer token is required' });
    return false;
  }
  if (principal.kind !== 'admin') {
    deps.metrics.authFailures.inc({ status: '403' });
    await reply.code(403).send({ error: `only the admin token ${what}` });
    return false;
  }
  return true;
}

export function tenantGuard(deps: Pick<RouteDeps, 'auth' | 'metrics' | 'ready'>) {
  return async (request: FastifyRequest<{ Params: TenantParams }>, reply: FastifyReply): Promise<string | undefined> => {
    const tenant = parseTenant(request.params.tenant, 'tenant');
    if (!tenant.ok) {
      await reply.code(400).send({ errors: tenant.errors });
      return undefined;
    }
    if (request.params.name !== undefined) {
      const name = parseTenant(request.params.name, 'name'); // pipeline names follow the same DNS-1123 rule
      if (!name.ok) {
        await reply.code(400).send({ errors: name.errors.map((e: FieldError) => ({ ...e, reason: e.reason.replace('namespace name', 'name') })) });
        return undefined;
      }
    }
    const principal = deps.auth.authenticate(request.headers.authorization);
    if (!principal) {
      deps.metrics.authFailures.inc({ status: '401' });
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a bearer token is required' });
      return undefined;
    }
    if (!mayAccess(principal, tenant.value)) {
      deps.metrics.authFailures.inc({ status: '403' });
      await reply.code(403).send({ error: `this token may not act for tenant "${tenant.value}"` });
      return undefined;
    }
    if (!deps.ready()) {
      await reply.code(503).send({ error: 'loading state from Kafka; retry shortly' });
      return undefined;
    }
    return tenant.value;
  };
}

/** The most sample lines one dry run takes. */
export const DRY_RUN_MAX_LINES = 1000;

/** `{ manifest: "<YAML or JSON>", lines: ["…"] }`, or what is wrong with it, field by field. */
function parseDryRun(text: string): { manifest: string; lines: string[] } | { errors: Array<{ path: string; reason: string }> } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { errors: [{ path: '(body)', reason: 'must be JSON: { "manifest": "<the manifest>", "lines": ["<a log line>", …] }' }] };
  }
  const errors: Array<{ path: string; reason: string }> = [];
  const { manifest, lines } = (typeof body === 'object' && body !== null ? body : {}) as { manifest?: unknown; lines?: unknown };
  if (typeof manifest !== 'string') errors.push({ path: 'manifest', reason: 'must be the manifest as text' });
  if (!Array.isArray(lines) || lines.some((l) => typeof l !== 'string')) errors.push({ path: 'lines', reason: 'must be a list of log lines (strings)' });
  else if (lines.length > DRY_RUN_MAX_LINES) errors.push({ path: 'lines', reason: `at most ${DRY_RUN_MAX_LINES} lines, got ${lines.length}` });
  return errors.length > 0 ? { errors } : { manifest: manifest as string, lines: lines as string[] };
}

export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  return body === undefined || body === null ? '' : JSON.stringify(body);
}

function count(metrics: ControlPlaneMetrics, tenant: string, errors: ReadonlyArray<{ path: string; reason: string }>): void {
  for (const error of errors) metrics.validationErrors.inc({ tenant, class: errorClass(error.path, error.reason) });
}

/** Runs tasks for the same key one after another. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
