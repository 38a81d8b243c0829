import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { DEAD_LETTER_CLASSES, InvalidResumeError, type DeadLetterClass, type DeadLetterFilter, type DeadLetterStore, type TrafficCounts } from '@tributary/kafka';
import { isRfc3339Time } from '@tributary/pipeline';
import { parseTenant } from '@tributary/tenant';
import type { DeliveryStatus } from '@tributary/notify';
import type { TenantParams } from './routes.js';

const CLASSES: readonly DeadLetterClass[] = DEAD_LETTER_CLASSES;

/** One pipeline of a tenant's status: what is in force and its last apply, its dead letters and notifications. */
export interface PipelineOverview {
  readonly name: string;
  readonly version: number | null;
  readonly appliedAt: string | null;
  readonly lastAttempt: { readonly at: string; readonly outcome: string } | null;
  readonly notifications: readonly DeliveryStatus[];
}

/** A tenant's records in Kafka: what came in over the last hour, and what the processors still have to do. */
export interface TenantTraffic {
  readonly tenant: string;
  /** Records written to logs.<tenant> in the last hour. */
  readonly recordsLastHour: number;
  /** Records of logs.<tenant> the processor group has not committed yet. */
  readonly lag: number;
  readonly partitions: number;
  /** Members of the processor group now. */
  readonly processors: number;
  /**
   * Per pipeline, what the processors did with its records over the last hour, from
   * `tributary.traffic` (`''`: records no pipeline saw, undecodable ones).
   */
  readonly pipelinesLastHour: Readonly<Record<string, TrafficCounts>>;
}

/** Every tenant at a glance, for the admin (`GET /v1/traffic`). */
export interface PlatformTraffic {
  /** When it was measured; answers are shared for a few seconds. */
  readonly at: string;
  /** Members of the processor group now. */
  readonly processors: number;
  readonly tenants: ReadonlyArray<{
    readonly tenant: string;
    /** Records of logs.<tenant> the processor group has not committed yet. */
    readonly lag: number;
    readonly partitions: number;
    /** What the processors did with the tenant's records over the last hour, every pipeline together. */
    readonly lastHour: TrafficCounts;
    readonly pipelinesInForce: ReadonlyArray<{ readonly name: string; readonly version: number }>;
  }>;
}

export interface DeadLetterRouteDeps {
  readonly guard: (request: FastifyRequest<{ Params: TenantParams }>, reply: FastifyReply) => Promise<string | undefined>;
  readonly store: DeadLetterStore;
  /** The tenant's pipelines (in force, or with a status) and their subscriptions' last deliveries. */
  readonly pipelines: (tenant: string) => PipelineOverview[];
  readonly traffic: (tenant: string) => Promise<TenantTraffic>;
  readonly logger: Logger;
  /** Live streams at once, per tenant and in all; default 5 and 100. */
  readonly maxStreamsPerTenant?: number;
  readonly maxStreams?: number;
}

type FieldProblem = { readonly path: string; readonly reason: string };
type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldProblem[] };

/** `since`, `until` (RFC 3339), `class`, `pipeline` of a query or body: the filter, or every problem with its field. */
export function parseDeadLetterFilter(input: Record<string, unknown>): Parsed<DeadLetterFilter> {
  const errors: FieldProblem[] = [];
  const time = (field: 'since' | 'until'): number | undefined => {
    const value = input[field];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || !isRfc3339Time(value)) {
      errors.push({ path: field, reason: 'must be an RFC 3339 time, e.g. 2026-12-03T10:00:00Z' });
      return undefined;
    }
    return Date.parse(value);
  };
  const since = time('since');
  const until = time('until');
  if (since !== undefined && until !== undefined && until < since) errors.push({ path: 'until', reason: 'must not be before since' });
  const cls = input['class'];
  if (cls !== undefined && cls !== '' && !CLASSES.includes(cls as DeadLetterClass)) errors.push({ path: 'class', reason: `must be one of ${CLASSES.join(', ')}` });
  const pipeline = input['pipeline'];
  if (pipeline !== undefined && pipeline !== '' && (typeof pipeline !== 'string' || !parseTenant(pipeline).ok)) errors.push({ path: 'pipeline', reason: 'must be a pipeline name (lowercase letters, digits and "-")' });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { since, until, class: cls ? (cls as DeadLetterClass) : undefined, pipeline: pipeline ? String(pipeline) : undefined },
  };
}

function wholeNumber(input: Record<string, unknown>, field: string, min: number, max: number, errors: FieldProblem[]): number | undefined {
  const value = input[field];
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    errors.push({ path: field, reason: `must be a whole number from ${min} to ${max}` });
    return undefined;
  }
  return n;
}

/**
 * Dead letters without a webhook: list (time → offsets, then the filter), follow live
 * (Server-Sent Events), replay to `logs.<tenant>` and purge. Every route is scoped by the
 * token exactly like the pipeline routes; the values are shown as text, cut.
 */
export function registerDeadLetterRoutes(app: FastifyInstance, deps: DeadLetterRouteDeps): void {
  const streams = new Map<string, number>();
  const open = new Set<AbortController>();
  let total = 0;
  // A stream never ends by itself: the server's close must end them, or it would wait forever.
  app.addHook('preClose', async () => {
    for (const controller of open) controller.abort();
  });

  app.get<{ Params: TenantParams; Querystring: Record<string, unknown> }>('/v1/tenants/:tenant/deadletters', async (request, reply) => {
    const tenant = await deps.guard(request, reply);
    if (!tenant) return reply;
    const filter = parseDeadLetterFilter(request.query);
    const errors: FieldProblem[] = filter.ok ? [] : filter.errors;
    const limit = wholeNumber(request.query, 'limit', 1, 1000, errors) ?? 100;
    const order = request.query['order'] ?? 'oldest';
    if (order !== 'oldest' && order !== 'newest') errors.push({ path: 'order', reason: `must be oldest or newest, not ${JSON.stringify(order)}` });
    if (!filter.ok || errors.length > 0) return reply.code(400).send({ errors });
    return withTopic(reply, tenant, () => deps.store.list(tenant, filter.value, { limit, order: order as 'oldest' | 'newest' }));
  });

  app.get<{ Params: TenantParams }>('/v1/tenants/:tenant/status', async (request, reply) => {
    const tenant = await deps.guard(request, reply);
    if (!tenant) return reply;
    const since = Date.now() - 3_600_000;
    let counts: Awaited<ReturnType<DeadLetterStore['count']>> | undefined;
    try {
      counts = await deps.store.count(tenant, since, { maxScan: 200_000, timeoutMs: 20_000 });
    } catch (err) {
      // No dead-letter topic yet: nothing dead-lettered.
      if (!isUnknownTopic(err)) throw err;
    }
    const pipelines = deps.pipelines(tenant).map((p) => ({ ...p, deadLettersLastHour: counts?.byPipeline[p.name] ?? {} }));
    return {
      tenant,
      deadLettersLastHour: { since: new Date(since).toISOString(), total: counts?.total ?? 0, complete: counts?.complete ?? true, withoutPipeline: counts?.byPipeline[''] ?? {} },
      pipelines,
    };
  });

  app.get<{ Params: TenantParams }>('/v1/tenants/:tenant/traffic', async (request, reply) => {
    const tenant = await deps.guard(request, reply);
    if (!tenant) return reply;
    return deps.traffic(tenant);
  });

  app.get<{ Params: TenantParams; Querystring: Record<string, unknown> }>('/v1/tenants/:tenant/deadletters/stream', async (request, reply) => {
    const tenant = await deps.guard(request, reply);
    if (!tenant) return reply;
    const filter = parseDeadLetterFilter({ class: request.query['class'], pipeline: request.query['pipeline'] });
    if (!filter.ok) return reply.code(400).send({ errors: filter.errors });
    if ((streams.get(tenant) ?? 0) >= (deps.maxStreamsPerTenant ?? 5) || total >= (deps.maxStreams ?? 100)) {
      return reply.code(429).header('retry-after', '10').send({ error: 'too many live dead-letter streams; close one or retry later' });
    }
    streams.set(tenant, (streams.get(tenant) ?? 0) + 1);
    total++;
    const controller = new AbortController();
    open.add(controller);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const end = (): void => {
      if (!open.delete(controller)) return;
      clearInterval(keepAlive);
      controller.abort();
      streams.set(tenant, (streams.get(tenant) ?? 1) - 1);
      total--;
      res.end();
    };
    request.raw.on('close', end);
    controller.signal.addEventListener('abort', end, { once: true });
    try {
      // JSON has no raw newline, so each event's data is one line.
      await deps.store.follow(tenant, filter.value, (letter) => res.write(`event: deadletter\nid: ${letter.partition}/${letter.offset}\ndata: ${JSON.stringify(letter)}\n\n`), controller.signal);
      if (!controller.signal.aborted) res.write('event: ready\ndata: {}\n\n');
    } catch (err) {
      deps.logger.warn({ err, tenant }, 'following dead letters failed');
      res.write(`event: error\ndata: ${JSON.stringify({ error: 'could not follow the dead-letter topic' })}\n\n`);
      end();
    }
  });

  app.post<{ Params: TenantParams; Body: unknown }>('/v1/tenants/:tenant/deadletters/replay', async (request, reply) => {
    const tenant = await deps.guard(request, reply);
    if (!tenant) return reply;
    const body = jsonObject(request.body);
    if (!body) return reply.code(400).send({ errors: [{ path: '(body)', reason: 'must be a JSON object' }] });
    const filter = parseDeadLetterFilter(body);
    const errors: FieldProblem[] = filter.ok ? [] : filter.errors;
    const maxRecords = wholeNumber(body, 'maxRecords', 1, 100_000, errors);
    const ratePerSecond = wholeNumber(body, 'ratePerSecond', 1, 100_000, errors);
    if (body['dryRun'] !== undefined && typeof body['dryRun'] !== 'boolean') errors.push({ path: 'dryRun', reason: 'must be true or false' });
    if (body['resume'] !== undefined && typeof body['resume'] !== 'string') errors.push({ path: 'resume', reason: 'must be the resume token a replay returned' });
    const offsets = selection(body['deadLetters'], errors);
    if (!filter.ok || errors.length > 0) return reply.code(400).send({ errors });
    try {
      return await withTopic(reply, tenant, () =>
        deps.store.replay(tenant, { ...filter.value, offsets }, {
          dryRun: body['dryRun'] === true,
          ...(maxRecords !== undefined ? { maxRecords } : {}),
          ...(ratePerSecond !== undefined ? { ratePerSecond } : {}),
          resume: body['resume'] as string | undefined,
        }),
      );
    } catch (err) {
      if (err instanceof InvalidResumeError) return reply.code(400).send({ errors: [{ path: 'resume', reason: err.message }] });
      throw err;
    }
  });

  app.post<{ Params: TenantParams; Body: unknown }>('/v1/tenants/:tenant/deadletters/purge', async (request, reply) => {
    const tenant = await deps.guard(request, reply);
    if (!tenant) return reply;
    const body = jsonObject(request.body);
    if (!body) return reply.code(400).send({ errors: [{ path: '(body)', reason: 'must be a JSON object' }] });
    const errors: FieldProblem[] = [];
    for (const field of ['class', 'pipeline', 'since']) {
      if (body[field] !== undefined) errors.push({ path: field, reason: 'purge removes the start of each partition up to a time: it has no filter' });
    }
    const filter = parseDeadLetterFilter({ until: body['until'] });
    if (!filter.ok) errors.push(...filter.errors);
    else if (filter.value.until === undefined) errors.push({ path: 'until', reason: 'is required: dead letters up to this time go' });
    if (body['dryRun'] !== undefined && typeof body['dryRun'] !== 'boolean') errors.push({ path: 'dryRun', reason: 'must be true or false' });
    if (!filter.ok || errors.length > 0) return reply.code(400).send({ errors });
    return withTopic(reply, tenant, () => deps.store.purge(tenant, filter.value.until as number, { dryRun: body['dryRun'] === true }));
  });
}

/** The most dead letters one replay may name. */
const MAX_SELECTION = 1000;

/** `deadLetters: ["<partition>/<offset>", …]` of a replay: only those; absent, every one the filter matches. */
function selection(value: unknown, errors: FieldProblem[]): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SELECTION || value.some((v) => typeof v !== 'string' || !/^\d{1,5}\/\d{1,19}$/.test(v))) {
    errors.push({ path: 'deadLetters', reason: `must be 1 to ${MAX_SELECTION} dead letters as "<partition>/<offset>" (as the list and the stream give them)` });
    return undefined;
  }
  return new Set(value as string[]);
}

/** Runs `work`; a tenant without a dead-letter topic (never applied, nothing produced) is a 404. */
async function withTopic<T>(reply: FastifyReply, tenant: string, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (err) {
    if (isUnknownTopic(err)) return reply.code(404).send({ error: `tenant "${tenant}" has no dead-letter topic (dlq.${tenant}) yet` });
    throw err;
  }
}

export function isUnknownTopic(err: unknown): boolean {
  const type = (err as { type?: string }).type;
  return type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic-partition|unknown topic/i.test((err as Error).message);
}

function jsonObject(body: unknown): Record<string, unknown> | undefined {
  let value = body;
  if (typeof body === 'string') {
    if (body.trim() === '') return {};
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (value === undefined || value === null) return {};
  return typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
