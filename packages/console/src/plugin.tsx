/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyHelmet from '@fastify/helmet';
import { transform } from 'esbuild';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { stringify } from 'yaml';
import { parseTenant } from '@tributary/tenant';
import { envelopeMessage } from '@tributary/envelope';
import { ConsoleApi, type ApiCall, type ApiStream, type DeadLetter, type DeadLetterFilter, type Principal, type ReplayResult } from './api.js';
import { DEAD_LETTER_CLASSES } from '@tributary/kafka';
import {
  DeadLettersPage,
  ErrorPage,
  NewPipelinePage,
  PipelinePage,
  PipelinesPage,
  SignInPage,
  TenantsPage,
  paths,
  renderPage,
  type Assets,
  type Outcome,
  type PipelineView,
  type ShownDeadLetter,
} from './pages.js';

export interface ConsoleOptions {
  /** Who a token is: the control plane's own authenticator. */
  readonly authenticate: (token: string) => Principal | undefined;
  /** The control plane's API, called in-process with the signed-in token. */
  readonly api: ApiCall;
  /** The API's event streams (the live dead letters), opened with the signed-in token. */
  readonly stream: ApiStream;
  /** How long a sign-in lasts; default 8 hours. */
  readonly sessionSeconds?: number;
  /**
   * Records a replay reads per request before the page shows its progress and goes on
   * (the page submits the next request itself); default 1 000.
   */
  readonly replayBatch?: number;
}

const SESSION_COOKIE = 'tributary_session';
const CSRF_COOKIE = 'tributary_csrf';
/** Manifests are at most 512 KiB (the API's limit); URL-encoding can triple them. */
const FORM_LIMIT = 2 * 1024 * 1024;

/**
 * The tenant console at /console. Its pages are rendered on the server; every read and
 * change goes through the control plane's HTTP API with the signed-in token, so a tenant
 * sees and does exactly what that token may through the API, whatever URL it edits.
 *
 * The token is kept in an HttpOnly, SameSite=Strict cookie scoped to /console (Secure over
 * HTTPS); every form carries a CSRF token; the Content-Security-Policy admits only the
 * console's own script and stylesheet, so text from a log line or a manifest, always
 * rendered as text, could not run even if it were not.
 */
export async function registerConsole(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const assets = await buildAssets();
  await app.register(async (scope) => consoleRoutes(scope, options, assets), { prefix: '/console' });
}

interface BuiltAssets extends Assets {
  readonly files: ReadonlyMap<string, { readonly type: string; readonly body: string }>;
}

/** The stylesheet and the script (TypeScript, transpiled once here), under names that change with their content. */
async function buildAssets(): Promise<BuiltAssets> {
  const css = readFileSync(new URL('./console.css', import.meta.url), 'utf8');
  const script = await transform(readFileSync(new URL('./client/console.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'esm', target: 'es2020', minify: true });
  const named = (base: string, ext: string, body: string) => `${base}.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`;
  const cssName = named('console', 'css', css);
  const jsName = named('console', 'js', script.code);
  return {
    css: `/console/assets/${cssName}`,
    js: `/console/assets/${jsName}`,
    files: new Map([
      [cssName, { type: 'text/css; charset=utf-8', body: css }],
      [jsName, { type: 'text/javascript; charset=utf-8', body: script.code }],
    ]),
  };
}

type Form = Record<string, string | undefined>;

/** A replay's counts over every request of it: this one's plus those its continue form carried (only ever shown). */
function withEarlier(result: ReplayResult, form: Form): ReplayResult {
  const earlier = (name: string) => {
    const n = Number(form[`${name}SoFar`] ?? '0');
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  };
  return { ...result, matched: result.matched + earlier('matched'), replayed: result.replayed + earlier('replayed'), skipped: result.skipped + earlier('skipped'), scanned: result.scanned + earlier('scanned') };
}

type DeadLettersPageReplay = NonNullable<Parameters<typeof DeadLettersPage>[0]['replay']>;

/** One event of the API's stream, passed on; a dead letter's data gets its original line. */
function relay(event: string): string {
  if (!event.startsWith('event: deadletter\n')) return event;
  return event.replace(/^data: (.*)$/m, (_m, data: string) => {
    try {
      return `data: ${JSON.stringify(shown(JSON.parse(data) as DeadLetter))}`;
    } catch {
      return `data: ${data}`;
    }
  });
}
type TenantRoute = { Params: { tenant: string; name?: string }; Body: Form; Querystring: Record<string, string | undefined> };
type TenantRequest = FastifyRequest<TenantRoute>;

async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions, assets: BuiltAssets): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/console', sameSite: 'strict', httpOnly: true, secure: 'auto', signed: false },
    getToken: (request) => (request.body as Form | undefined)?.['_csrf'],
  });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    // A repeated field (the selected dead letters) arrives comma-joined: none of its values has a comma.
    const form: Form = {};
    for (const [key, value] of new URLSearchParams(String(body))) form[key] = form[key] === undefined ? value : `${form[key]},${value}`;
    done(null, form);
  });

  const session = (request: FastifyRequest): { principal: Principal; api: ConsoleApi } | undefined => {
    const token = request.cookies[SESSION_COOKIE];
    const principal = token ? options.authenticate(token) : undefined;
    return principal && token ? { principal, api: new ConsoleApi(options.api, token) } : undefined;
  };

  const send = (reply: FastifyReply, status: number, title: string, body: ComponentChildren, principal?: Principal): FastifyReply =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderPage(title, { assets, csrf: reply.generateCsrf(), principal }, body));

  const problem = (reply: FastifyReply, status: number, message: string, principal?: Principal) =>
    send(reply, status, 'Not available', <ErrorPage title={status === 403 ? 'Not yours' : status === 404 ? 'Not found' : 'Something went wrong'} message={message} />, principal);

  // Forms whose CSRF token is missing or stale, and anything unexpected: a page, not JSON.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err.code?.startsWith('FST_CSRF')) return problem(reply, 403, 'This form expired or did not come from this console. Reload the page and try again.', session(request)?.principal);
    if ((err.statusCode ?? 500) < 500) return problem(reply, err.statusCode ?? 400, err.message, session(request)?.principal);
    request.log.error({ err }, 'console page failed');
    return problem(reply, 500, 'The console could not show this page; the control plane logged why.', session(request)?.principal);
  });

  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const file = assets.files.get(request.params.file);
    if (!file) return reply.code(404).type('text/plain').send('not found');
    // The name changes with the content: cache it for good.
    return reply.type(file.type).header('cache-control', 'public, max-age=31536000, immutable').send(file.body);
  });

  app.get('/', async (request, reply) => {
    const signedIn = session(request);
    if (!signedIn) return reply.redirect(paths.signIn, 303);
    return reply.redirect(signedIn.principal.kind === 'admin' ? paths.tenants : paths.tenant(signedIn.principal.tenant), 303);
  });

  app.get('/sign-in', async (request, reply) => (session(request) ? reply.redirect(paths.root, 303) : send(reply, 200, 'Sign in', <SignInPage />)));

  app.post<{ Body: Form }>('/sign-in', { preHandler: app.csrfProtection }, async (request, reply) => {
    const token = (request.body?.['token'] ?? '').trim();
    const principal = token ? options.authenticate(token) : undefined;
    if (!principal) return send(reply, 401, 'Sign in', <SignInPage error="That token is not one this control plane knows." />);
    reply.setCookie(SESSION_COOKIE, token, { path: '/console', httpOnly: true, sameSite: 'strict', secure: 'auto', maxAge: options.sessionSeconds ?? 8 * 3600 });
    return reply.redirect(paths.root, 303);
  });

  app.post('/sign-out', { preHandler: app.csrfProtection }, async (_request, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/console' });
    return reply.redirect(paths.signIn, 303);
  });

  app.get<{ Querystring: { tenant?: string } }>('/tenants', async (request, reply) => {
    const signedIn = session(request);
    if (!signedIn) return reply.redirect(paths.signIn, 303);
    if (request.query.tenant !== undefined) {
      const tenant = parseTenant(request.query.tenant.trim(), 'tenant');
      return tenant.ok ? reply.redirect(paths.tenant(tenant.value), 303) : problem(reply, 400, tenant.errors.map((e) => e.reason).join('; '), signedIn.principal);
    }
    if (signedIn.principal.kind !== 'admin') return reply.redirect(paths.tenant(signedIn.principal.tenant), 303);
    // One answer for every tenant: the API measures them together and shares it for a few seconds.
    const platform = await signedIn.api.platform();
    return send(reply, 200, 'Tenants', <TenantsPage platform={platform} />, signedIn.principal);
  });

  /** The session and the tenant (and pipeline name) of a tenant page; undefined once it has answered. */
  const scoped = async (request: TenantRequest, reply: FastifyReply): Promise<{ principal: Principal; api: ConsoleApi; tenant: string; name?: string } | undefined> => {
    const signedIn = session(request);
    if (!signedIn) {
      await reply.redirect(paths.signIn, 303);
      return undefined;
    }
    const tenant = parseTenant(request.params.tenant, 'tenant');
    const name = request.params.name === undefined ? undefined : parseTenant(request.params.name, 'name');
    if (!tenant.ok || (name && !name.ok)) {
      await problem(reply, 400, 'That is not a tenant or pipeline name (lowercase letters, digits and dashes).', signedIn.principal);
      return undefined;
    }
    // The API would refuse too; refusing here first means nothing of the tenant is even asked for.
    if (signedIn.principal.kind !== 'admin' && signedIn.principal.tenant !== tenant.value) {
      await problem(reply, 403, `You are signed in for tenant ${signedIn.principal.tenant}, not ${tenant.value}.`, signedIn.principal);
      return undefined;
    }
    return { ...signedIn, tenant: tenant.value, ...(name?.ok ? { name: name.value } : {}) };
  };

  app.get<TenantRoute>('/tenants/:tenant', async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx) return reply;
    const [{ status, overview }, traffic] = await Promise.all([ctx.api.overview(ctx.tenant), ctx.api.traffic(ctx.tenant).catch(() => undefined)]);
    if (!overview) return problem(reply, status, `The control plane refused the tenant's status (${status}).`, ctx.principal);
    return send(reply, 200, `Pipelines of ${ctx.tenant}`, <PipelinesPage overview={overview} traffic={traffic} />, ctx.principal);
  });

  /** The pipeline page's data: what is in force, the last attempt, and what to put in the editor. */
  const pipelineView = async (api: ConsoleApi, tenant: string, name: string, submitted?: { draft: string; basedOn: number; outcome: Outcome; samples?: string }) => {
    const got = await api.pipeline(tenant, name);
    if (got.status !== 200) return { status: got.status };
    const inForceYaml = got.inForce ? stringify(got.inForce.manifest, { lineWidth: 0 }) : undefined;
    const refused = got.lastStatus?.lastAttempt.outcome === 'rejected' ? got.lastStatus.lastAttempt.manifest : undefined;
    const view: PipelineView = {
      tenant,
      name,
      inForce: got.inForce,
      lastStatus: got.lastStatus,
      inForceYaml,
      draft: submitted?.draft ?? refused ?? inForceYaml ?? '',
      basedOn: submitted?.basedOn ?? got.inForce?.version ?? 0,
      outcome: submitted?.outcome,
      samples: submitted?.samples,
    };
    return { status: 200, view };
  };

  app.get<TenantRoute>('/tenants/:tenant/pipelines/:name', async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx?.name) return reply;
    const { applied, unchanged } = request.query;
    const version = Number(applied ?? unchanged);
    const outcome: Outcome | undefined = Number.isSafeInteger(version) && version > 0 ? { kind: 'applied', version, unchanged: unchanged !== undefined } : undefined;
    const { status, view } = await pipelineView(ctx.api, ctx.tenant, ctx.name);
    if (!view) return problem(reply, status, status === 404 ? `Tenant ${ctx.tenant} has no pipeline ${ctx.name}.` : `The control plane refused (${status}).`, ctx.principal);
    return send(reply, 200, `${ctx.name} · ${ctx.tenant}`, <PipelinePage {...view} draft={view.draft} outcome={outcome} />, ctx.principal);
  });

  /** Validate or apply what the editor posted; answers with the page showing the outcome. */
  const submit = async (ctx: { principal: Principal; api: ConsoleApi; tenant: string }, name: string, form: Form, reply: FastifyReply, isNew: boolean) => {
    const draft = form['manifest'] ?? '';
    const basedOn = isNew ? 0 : Number(form['basedOn'] ?? 0);
    if (form['intent'] === 'apply') {
      const answer = await ctx.api.apply(ctx.tenant, name, draft, Number.isSafeInteger(basedOn) ? basedOn : 0);
      if (answer.kind === 'applied') {
        const flag = answer.outcome === 'unchanged' ? 'unchanged' : 'applied';
        return reply.redirect(`${paths.pipeline(ctx.tenant, name)}?${flag}=${answer.version}`, 303);
      }
      const outcome: Outcome =
        answer.kind === 'rejected'
          ? { kind: 'rejected', errors: answer.errors }
          : answer.kind === 'conflict'
            ? { kind: 'conflict', current: answer.current, based: basedOn }
            : { kind: 'refused', message: answer.message };
      const status = answer.kind === 'rejected' ? 422 : answer.kind === 'conflict' ? 409 : answer.status;
      // After a conflict the editor is based on what is in force now: applying again is a decision, not a retry.
      const nextBase = answer.kind === 'conflict' ? answer.current : basedOn;
      return showSubmitted(ctx, name, { draft, basedOn: nextBase, outcome }, reply, status, isNew);
    }
    const samples = form['samples'] ?? '';
    if (form['intent'] === 'dry-run') {
      const lines = samples === '' ? [] : samples.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
      const ran = await ctx.api.dryRun(ctx.tenant, draft, lines);
      const outcome: Outcome = ran.valid ? { kind: 'dryRun', results: ran.results, samples: lines } : { kind: 'invalid', errors: ran.errors };
      return showSubmitted(ctx, name, { draft, basedOn, outcome, samples }, reply, ran.valid ? 200 : ran.status === 400 ? 400 : 422, isNew);
    }
    const checked = await ctx.api.validate(ctx.tenant, draft);
    const outcome: Outcome = checked.valid ? { kind: 'valid' } : { kind: 'invalid', errors: checked.errors };
    return showSubmitted(ctx, name, { draft, basedOn, outcome, samples }, reply, checked.valid ? 200 : 422, isNew);
  };

  const showSubmitted = async (ctx: { principal: Principal; api: ConsoleApi; tenant: string }, name: string, submitted: { draft: string; basedOn: number; outcome: Outcome; samples?: string }, reply: FastifyReply, status: number, isNew: boolean) => {
    const { view } = await pipelineView(ctx.api, ctx.tenant, name, submitted);
    if (view) return send(reply, status, `${name} · ${ctx.tenant}`, <PipelinePage {...view} />, ctx.principal);
    // A pipeline that doesn't exist yet, and whose first apply did not go through (or was only validated).
    const page = isNew ? <NewPipelinePage tenant={ctx.tenant} name={name} draft={submitted.draft} outcome={submitted.outcome} samples={submitted.samples} /> : <PipelinePage tenant={ctx.tenant} name={name} draft={submitted.draft} basedOn={0} outcome={submitted.outcome} samples={submitted.samples} />;
    return send(reply, status, `${name} · ${ctx.tenant}`, page, ctx.principal);
  };

  app.post<TenantRoute>('/tenants/:tenant/pipelines/:name', { preHandler: app.csrfProtection }, async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx?.name) return reply;
    return submit(ctx, ctx.name, request.body ?? {}, reply, false);
  });

  const deadLettersPage = async (ctx: { principal: Principal; api: ConsoleApi; tenant: string }, query: Record<string, string | undefined>, reply: FastifyReply, replay?: DeadLettersPageReplay, status = 200) => {
    const { overview } = await ctx.api.overview(ctx.tenant);
    const pipelines = (overview?.pipelines ?? []).map((p) => p.name);
    const filter = deadLetterFilter(query);
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const listed = await ctx.api.deadLetters(ctx.tenant, { ...filter, since }, 200);
    const page = (
      <DeadLettersPage
        tenant={ctx.tenant}
        filter={filter}
        pipelines={pipelines}
        letters={listed.deadLetters.map(shown)}
        overview={overview}
        replay={replay}
        since={since.replace(/\.\d+Z$/, 'Z')}
        until={new Date().toISOString().replace(/\.\d+Z$/, 'Z')}
        error={listed.errors ? listed.errors.map((e) => e.reason).join('; ') : undefined}
      />
    );
    return send(reply, status, `Dead letters · ${ctx.tenant}`, page, ctx.principal);
  };

  app.get<TenantRoute>('/tenants/:tenant/deadletters', async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx) return reply;
    return deadLettersPage(ctx, request.query, reply);
  });

  app.post<TenantRoute>('/tenants/:tenant/deadletters/replay', { preHandler: app.csrfProtection }, async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx) return reply;
    const form = request.body ?? {};
    const filter = deadLetterFilter(form);
    const picked = form['deadLetters'] ? form['deadLetters'].split(',') : undefined;
    // A selection is replayed as it is; otherwise the time range and the filter.
    const replayRequest = picked
      ? { deadLetters: picked, dryRun: false }
      : { ...filter, since: form['since']?.trim() || undefined, until: form['until']?.trim() || undefined, dryRun: form['dryRun'] === 'true' };
    if (!picked && form['intent'] === 'selection') {
      return deadLettersPage(ctx, { pipeline: filter.pipeline, class: filter.class }, reply, { request: replayRequest, errors: [{ path: '', reason: 'Tick the dead letters to replay first.' }] }, 400);
    }
    const resume = form['resume'] || undefined;
    const answer = await ctx.api.replay(ctx.tenant, { ...replayRequest, resume, maxRecords: options.replayBatch ?? 1000 });
    const status = answer.status === 200 ? 200 : answer.status === 404 ? 404 : 400;
    const errors = answer.status === 404 ? [{ path: '', reason: `tenant ${ctx.tenant} has no dead letters yet` }] : answer.errors;
    // What the earlier requests of this replay did, carried by the page from one to the next.
    const result = answer.result && resume ? withEarlier(answer.result, form) : answer.result;
    return deadLettersPage(ctx, { pipeline: filter.pipeline, class: filter.class }, reply, { request: replayRequest, result, errors }, status);
  });

  // The live view's events: the API's stream, each dead letter with its original line added.
  app.get<TenantRoute>('/tenants/:tenant/deadletters/stream', async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx) return reply;
    const filter = deadLetterFilter(request.query);
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
    const controller = new AbortController();
    const token = request.cookies[SESSION_COOKIE] ?? '';
    const upstream = await options.stream({ url: `/v1/tenants/${encodeURIComponent(ctx.tenant)}/deadletters/stream?${query}`, token }, controller.signal);
    if (upstream.status !== 200 || !upstream.body) {
      controller.abort();
      return reply.code(upstream.status === 200 ? 502 : upstream.status).type('text/plain').send('the dead-letter stream is not available');
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' });
    request.raw.on('close', () => controller.abort());
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of upstream.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          res.write(`${relay(buffered.slice(0, end))}\n\n`);
          buffered = buffered.slice(end + 2);
        }
      }
    } catch {
      // The browser went away (abort), or the API's stream ended.
    } finally {
      controller.abort();
      res.end();
    }
    return reply;
  });

  app.get<TenantRoute>('/tenants/:tenant/new', async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx) return reply;
    return send(reply, 200, `New pipeline · ${ctx.tenant}`, <NewPipelinePage tenant={ctx.tenant} name="" draft={template(ctx.tenant)} />, ctx.principal);
  });

  app.post<TenantRoute>('/tenants/:tenant/pipelines', { preHandler: app.csrfProtection }, async (request, reply) => {
    const ctx = await scoped(request, reply);
    if (!ctx) return reply;
    const form = request.body ?? {};
    const name = parseTenant((form['name'] ?? '').trim(), 'name');
    if (!name.ok) {
      const errors = name.errors.map((e) => ({ path: 'name', reason: e.reason.replace('namespace name', 'name') }));
      return send(reply, 400, `New pipeline · ${ctx.tenant}`, <NewPipelinePage tenant={ctx.tenant} name={form['name'] ?? ''} draft={form['manifest'] ?? ''} errors={errors} />, ctx.principal);
    }
    return submit(ctx, name.value, form, reply, true);
  });
}

/** The line a dead letter holds: the envelope's message, else the record's value as it is. */
function shown(letter: DeadLetter): ShownDeadLetter {
  return { ...letter, line: (letter.value === null ? undefined : envelopeMessage(letter.value)) ?? letter.value ?? '(no value)' };
}

/** A filter of the query or form, with only the words the API knows (anything else is dropped, not passed on). */
function deadLetterFilter(input: Record<string, string | undefined>): DeadLetterFilter {
  const cls = input['class'];
  const pipeline = input['pipeline'];
  return {
    class: cls && (DEAD_LETTER_CLASSES as readonly string[]).includes(cls) ? cls : undefined,
    pipeline: pipeline && parseTenant(pipeline, 'name').ok ? pipeline : undefined,
  };
}

/** What a new pipeline's editor starts with: the smallest manifest that does something. */
function template(tenant: string): string {
  return ['apiVersion: tributary.dev/v1alpha1', 'kind: LoggingPipeline', 'metadata:', '  name: my-app', `  namespace: ${tenant}`, 'spec:', '  parse:', '    - json: { field: message }', '  output:', '    elasticsearch: { index: my-app }', ''].join('\n');
}
