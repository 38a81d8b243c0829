import { errors, type Client } from '@elastic/elasticsearch';

/** One document to write. `body` is the document's JSON, already serialized: it is sent as is. */
export interface BulkItem {
  readonly index: string;
  readonly id: string;
  readonly body: string;
  /** `create` for data streams and idempotent writes (an existing `_id` is a duplicate); `index` overwrites. */
  readonly op: 'create' | 'index';
}

/**
 * What became of one item:
 * - `stored` — written (200/201); `duplicate: true` when a `create` found its `_id` already
 *   there (409 version conflict): a re-delivery, stored before, a success.
 * - `retry` — not written, worth sending again: 429, 5xx, 408, timeouts, connection errors,
 *   or the whole request failed that way.
 * - `rejected` — never worth sending again: class `mapping` for the 400s Elasticsearch gives a
 *   document (document_parsing_exception, mapper_parsing_exception, illegal_argument_exception,
 *   invalid_index_name_exception…); class `request` for other refusals (an `_id` over 512 bytes,
 *   a 404 index_not_found_exception, a whole request refused with 400/413).
 */
export type BulkItemResult =
  | { readonly status: 'stored'; readonly duplicate?: true }
  | { readonly status: 'retry'; readonly reason: string; readonly httpStatus?: number }
  | { readonly status: 'rejected'; readonly class: RejectionClass; readonly reason: string; readonly errorType?: string; readonly httpStatus?: number };

export type RejectionClass = 'mapping' | 'request';

export interface BulkWriteOptions {
  /** Make the writes searchable before answering (`true`, `'wait_for'`). Default `false`. */
  readonly refresh?: boolean | 'wait_for';
  /** HTTP timeout of the bulk request, ms. Default: the client's `requestTimeout` (30 000 from `createElasticsearch`). */
  readonly timeoutMs?: number;
  /** Aborts the request: every item is then `retry`. */
  readonly signal?: AbortSignal;
}

/** Longest reason kept, in characters. */
export const MAX_REASON_LENGTH = 1_000;
/** Elasticsearch refuses the whole bulk request when any `_id` is longer than this many UTF-8 bytes. */
const MAX_ID_BYTES = 512;

const STORED: BulkItemResult = Object.freeze({ status: 'stored' });
const DUPLICATE: BulkItemResult = Object.freeze({ status: 'stored', duplicate: true });

interface EsError {
  readonly type?: string;
  readonly reason?: string | null;
  readonly caused_by?: EsError;
}
interface BulkResponse {
  readonly errors?: boolean;
  /** One object per item, keyed by its action: `{ create: { status, error? } }`. */
  readonly items?: ReadonlyArray<{ readonly [op: string]: ItemOutcome }>;
}
interface ItemOutcome {
  readonly status?: number;
  readonly error?: EsError;
}

/**
 * Writes `items` with one `_bulk` request and returns one result per item, in order.
 * Never throws for an Elasticsearch answer or a network failure: those become results.
 * It does not retry (the transport's own retries are off for this request): send the
 * `retry` items again, e.g. with `retry()`.
 */
export async function bulkWrite(client: Client, items: readonly BulkItem[], options: BulkWriteOptions = {}): Promise<BulkItemResult[]> {
  const results: Array<BulkItemResult | undefined> = new Array(items.length);
  const sent: number[] = [];
  let ndjson = '';
  for (const [i, item] of items.entries()) {
    if (Buffer.byteLength(item.id) > MAX_ID_BYTES) {
      results[i] = { status: 'rejected', class: 'request', errorType: 'id_too_long', reason: truncate(`id_too_long: _id is ${Buffer.byteLength(item.id)} bytes, Elasticsearch allows at most ${MAX_ID_BYTES}`) };
      continue;
    }
    ndjson += actionLine(item) + oneLine(item.body) + '\n';
    sent.push(i);
  }
  if (sent.length > 0) {
    const answers = await send(client, ndjson, sent.length, options);
    for (const [k, i] of sent.entries()) results[i] = answers[k];
  }
  return results as BulkItemResult[];
}

/** `{"create":{"_index":…,"_id":…}}`: only the action line is serialized here. */
function actionLine(item: BulkItem): string {
  return `{"${item.op === 'create' ? 'create' : 'index'}":{"_index":${JSON.stringify(item.index)},"_id":${JSON.stringify(item.id)}}}\n`;
}

/**
 * NDJSON ends a document at a newline. In valid JSON a raw newline can only be whitespace
 * between tokens (inside strings it must be escaped), so replacing it with a space keeps the
 * document identical without parsing it; invalid JSON stays invalid and is rejected alone.
 */
function oneLine(body: string): string {
  return body.includes('\n') ? body.replaceAll('\n', ' ') : body;
}

async function send(client: Client, ndjson: string, count: number, options: BulkWriteOptions): Promise<BulkItemResult[]> {
  let response: BulkResponse;
  try {
    // A string bulkBody goes on the wire as is: the transport only ndserializes arrays and objects.
    response = await client.transport.request<BulkResponse>(
      {
        method: 'POST',
        path: '/_bulk',
        querystring: { filter_path: 'errors,items.*.status,items.*.error', ...(options.refresh ? { refresh: String(options.refresh) } : {}) },
        bulkBody: ndjson,
      },
      { maxRetries: 0, ...(options.timeoutMs !== undefined ? { requestTimeout: options.timeoutMs } : {}), ...(options.signal ? { signal: options.signal } : {}) },
    );
  } catch (err) {
    return new Array<BulkItemResult>(count).fill(requestFailure(err));
  }
  const answers = typeof response === 'object' && response !== null ? response.items : undefined;
  if (answers === undefined || !Array.isArray(answers as unknown) || answers.length !== count) {
    return new Array<BulkItemResult>(count).fill({ status: 'retry', reason: `malformed bulk response: ${answers?.length ?? 'no'} items for ${count} sent` });
  }
  if (response.errors === false) return new Array<BulkItemResult>(count).fill(STORED);
  return answers.map((answer) => {
    const entry = Object.entries(answer ?? {})[0];
    return itemResult(entry?.[0], entry?.[1]?.status, entry?.[1]?.error);
  });
}

function itemResult(op: string | undefined, status: number | undefined, error: EsError | undefined): BulkItemResult {
  if (status === undefined) return { status: 'retry', reason: 'malformed bulk response: item without a status' };
  if (status >= 200 && status < 300 && !error) return STORED;
  const reason = describe(error, status);
  if (status === 409 && op === 'create' && error?.type === 'version_conflict_engine_exception') return DUPLICATE;
  if (isTransient(status) || status === 409) return { status: 'retry', reason, httpStatus: status };
  return {
    status: 'rejected',
    class: status === 400 ? 'mapping' : 'request',
    reason,
    httpStatus: status,
    ...(error?.type ? { errorType: error.type } : {}),
  };
}

/** The whole request failed: the same answer for every item. */
function requestFailure(err: unknown): BulkItemResult {
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? err.meta?.statusCode;
    const body = err.body as { error?: EsError | string } | string | undefined;
    const error = typeof body === 'object' && body !== null ? body.error : undefined;
    const reason = typeof error === 'object' ? describe(error, status) : truncate(`http ${status}: ${typeof error === 'string' ? error : err.message}`);
    // 400 and 413 would fail the same way again; auth, 404 (a proxy, a path) and the rest are
    // configuration the operator fixes, so the documents wait rather than being dead-lettered.
    if (status === 400 || status === 413) {
      return { status: 'rejected', class: 'request', reason, ...(status !== undefined ? { httpStatus: status } : {}), ...(typeof error === 'object' && error.type ? { errorType: error.type } : {}) };
    }
    return { status: 'retry', reason, ...(status !== undefined ? { httpStatus: status } : {}) };
  }
  // ConnectionError, TimeoutError, RequestAbortedError, NoLivingConnectionsError, DeserializationError…
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  return { status: 'retry', reason: truncate(`${name}: ${message}`) };
}

function isTransient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `type: reason (caused by type: reason)`, at most MAX_REASON_LENGTH characters. */
function describe(error: EsError | undefined, status: number | undefined): string {
  if (!error) return truncate(`http ${status ?? '?'}`);
  let text = `${error.type ?? 'error'}: ${error.reason ?? ''}`;
  const cause = error.caused_by;
  if (cause && cause.reason && !(error.reason ?? '').includes(cause.reason)) text += ` (caused by ${cause.type ?? 'error'}: ${cause.reason})`;
  return truncate(text);
}

function truncate(text: string): string {
  if (text.length <= MAX_REASON_LENGTH) return text;
  let cut = text.slice(0, MAX_REASON_LENGTH - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
