import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { bulkWrite, type BulkItem, type BulkItemResult } from '@tributary/elasticsearch';
import { retryDelay } from '@tributary/retry';
import type { ProcessorMetrics } from './metrics.js';

/** What became of one document. */
export type WriteOutcome =
  /** In Elasticsearch; `duplicate` when its `_id` was there already (a re-delivery). */
  | { readonly status: 'stored'; readonly duplicate: boolean }
  /** Elasticsearch will never take it: it belongs in the dead-letter topic. */
  | { readonly status: 'refused'; readonly class: 'mapping' | 'rejected'; readonly reason: string }
  /** No longer wanted (its partition was revoked, or the processor stops): not written, nothing to commit. */
  | { readonly status: 'abandoned' };

export interface WriteRequest {
  readonly tenant: string;
  readonly item: BulkItem;
  /** Read before every attempt: false once the record's partition is gone or the processor stops. */
  readonly active: () => boolean;
  /** Called exactly once, with the final outcome. */
  readonly done: (outcome: WriteOutcome) => void;
}

export interface BulkWriterOptions {
  readonly elasticsearch: Client;
  /** A bulk request is sent once this many bytes of documents are queued; default 5 MiB. */
  readonly maxBulkBytes?: number;
  /** …or this many documents; default 10 000. */
  readonly maxBulkDocuments?: number;
  /** …or once the oldest queued document waited this long, ms; default 50. */
  readonly lingerMs?: number;
  /** Bulk requests outstanding at once; default 4 (plus one express bulk for quiet tenants). */
  readonly maxInFlightBulks?: number;
  /** Waits after a bulk Elasticsearch asked to retry (429, 5xx, timeout, unreachable), growing per consecutive failure. */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly logger: Logger;
  readonly metrics?: ProcessorMetrics | undefined;
}

/**
 * Batches documents of every partition and tenant into `_bulk` requests by size and time,
 * several in flight, and settles each document once: stored, refused, or abandoned. What
 * Elasticsearch asks to retry goes back to the front of the queue and is sent again after a
 * growing backoff, as long as it is wanted: never dropped, never given up on.
 *
 * Fairness: each tenant has its own queue and a bulk takes one document from each tenant in
 * turn, so a tenant with a deep backlog can't push another tenant's documents to the back.
 * And when every bulk slot is taken, one more "express" bulk may go out with the documents
 * of tenants that have none in flight: a quiet tenant doesn't wait for a busy tenant's
 * bulks to finish before its own documents leave.
 */
export class BulkWriter {
  private readonly queues = new Map<string, RequestQueue>();
  /** Tenants with queued documents, in turn order. */
  private turn: string[] = [];
  private queuedBytes = 0;
  private queuedCount = 0;
  /** When the oldest queued document was queued: the linger clock. */
  private oldestQueuedAt = 0;
  private inFlight = 0;
  /** Documents in flight per tenant; a tenant with none is served by the express bulk. */
  private readonly tenantsInFlight = new Map<string, number>();
  private expressInFlight = false;
  private consecutiveFailures = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly maxBulkBytes: number;
  private readonly maxBulkDocuments: number;
  private readonly lingerMs: number;
  private readonly maxInFlightBulks: number;

  constructor(private readonly options: BulkWriterOptions) {
    this.maxBulkBytes = positive('maxBulkBytes', options.maxBulkBytes ?? 5 * 1024 * 1024);
    this.maxBulkDocuments = positive('maxBulkDocuments', options.maxBulkDocuments ?? 10_000);
    this.lingerMs = nonNegative('lingerMs', options.lingerMs ?? 50);
    this.maxInFlightBulks = positive('maxInFlightBulks', options.maxInFlightBulks ?? 4);
  }

  /** Documents queued or in a bulk request now. */
  get pending(): number {
    return this.queuedCount + this.inFlightDocuments;
  }
  private inFlightDocuments = 0;

  write(request: WriteRequest): void {
    if (this.stopped) {
      request.done(ABANDONED);
      return;
    }
    this.enqueue(request, false);
    this.kick();
  }

  /** Settles every queued document that is no longer wanted now, rather than at its next turn. */
  abandonInactive(): void {
    for (const [tenant, queue] of this.queues) {
      for (const request of queue.removeWhere((r) => !r.active())) {
        this.dequeued(request);
        request.done(ABANDONED);
      }
      if (queue.length === 0) this.forget(tenant);
    }
    this.settleIdle();
  }

  /** Resolves once nothing is queued or in flight, or after `timeoutMs`; true when idle. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timeout = setTimeout(() => {
        const at = this.idleWaiters.indexOf(wake);
        if (at >= 0) this.idleWaiters.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timeout);
        resolve(true);
      };
      this.idleWaiters.push(wake);
    });
  }

  /** Abandons everything still queued; bulks in flight finish on their own. Writes after this are abandoned. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [tenant, queue] of this.queues) {
      for (const request of queue.removeWhere(() => true)) {
        this.dequeued(request);
        request.done(ABANDONED);
      }
      this.forget(tenant);
    }
    this.settleIdle();
  }

  private enqueue(request: WriteRequest, front: boolean): void {
    let queue = this.queues.get(request.tenant);
    if (!queue) {
      queue = new RequestQueue();
      this.queues.set(request.tenant, queue);
      this.turn.push(request.tenant);
    }
    if (this.queuedCount === 0) this.oldestQueuedAt = Date.now();
    if (front) queue.unshift(request);
    else queue.push(request);
    this.queuedBytes += request.item.body.length;
    this.queuedCount++;
  }

  private dequeued(request: WriteRequest): void {
    this.queuedBytes -= request.item.body.length;
    this.queuedCount--;
  }

  private forget(tenant: string): void {
    this.queues.delete(tenant);
    this.turn = this.turn.filter((t) => t !== tenant);
  }

  /** Sends what is due, as far as the in-flight limit allows, and sets the timer for what isn't yet. */
  private kick(): void {
    this.sendDue();
    // Everything queued may have been abandoned at its turn.
    this.settleIdle();
  }

  private sendDue(): void {
    while (!this.stopped && this.queuedCount > 0) {
      const now = Date.now();
      if (now < this.retryAt) return this.wakeAt(this.retryAt);
      const full = this.queuedBytes >= this.maxBulkBytes || this.queuedCount >= this.maxBulkDocuments;
      const lingered = now >= this.oldestQueuedAt + this.lingerMs;
      if (this.inFlight >= this.maxInFlightBulks) {
        // Every slot is taken: only the express bulk, for tenants with nothing in flight.
        const quiet = this.expressInFlight ? [] : this.turn.filter((tenant) => !this.tenantsInFlight.has(tenant));
        if (quiet.length === 0) return;
        if (!lingered) return this.wakeAt(this.oldestQueuedAt + this.lingerMs);
        const bulk = this.take(quiet);
        if (bulk.length > 0) void this.send(bulk, true);
        return;
      }
      if (!full && !lingered) return this.wakeAt(this.oldestQueuedAt + this.lingerMs);
      const bulk = this.take(this.turn);
      if (bulk.length > 0) void this.send(bulk, false);
    }
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.kick();
    }, Math.max(0, at - Date.now()));
  }

  /**
   * One bulk's worth from `tenants`, one document per tenant in turn; what is no longer
   * wanted is settled here.
   */
  private take(tenants: readonly string[]): WriteRequest[] {
    const order = [...tenants];
    const bulk: WriteRequest[] = [];
    let bytes = 0;
    let at = 0;
    while (order.length > 0 && bytes < this.maxBulkBytes && bulk.length < this.maxBulkDocuments) {
      if (at >= order.length) at = 0;
      const tenant = order[at] as string;
      const queue = this.queues.get(tenant) as RequestQueue;
      const request = queue.shift() as WriteRequest;
      this.dequeued(request);
      if (queue.length === 0) {
        this.forget(tenant);
        order.splice(at, 1);
      } else at++;
      if (!request.active()) {
        request.done(ABANDONED);
        continue;
      }
      bulk.push(request);
      bytes += request.item.body.length;
    }
    // The tenant after the last one served goes first next time.
    const next = order.length > 0 ? order[at % order.length] : undefined;
    const first = next === undefined ? -1 : this.turn.indexOf(next);
    if (first > 0) this.turn = [...this.turn.slice(first), ...this.turn.slice(0, first)];
    this.oldestQueuedAt = this.queuedCount > 0 ? Math.min(this.oldestQueuedAt, Date.now()) : 0;
    return bulk;
  }

  private countInFlight(bulk: readonly WriteRequest[], delta: 1 | -1): void {
    for (const request of bulk) {
      const n = (this.tenantsInFlight.get(request.tenant) ?? 0) + delta;
      if (n > 0) this.tenantsInFlight.set(request.tenant, n);
      else this.tenantsInFlight.delete(request.tenant);
    }
  }

  private async send(bulk: WriteRequest[], express: boolean): Promise<void> {
    if (express) this.expressInFlight = true;
    else this.inFlight++;
    this.inFlightDocuments += bulk.length;
    this.countInFlight(bulk, 1);
    const metrics = this.options.metrics;
    const timer = metrics?.bulkSeconds.startTimer();
    let results: BulkItemResult[];
    try {
      results = await bulkWrite(this.options.elasticsearch, bulk.map((r) => r.item));
    } catch (err) {
      // bulkWrite turns every answer and network failure into results; anything else is a bug here, still not a reason to lose documents.
      results = bulk.map(() => ({ status: 'retry', reason: (err as Error).message }));
    } finally {
      timer?.();
      metrics?.bulkDocuments.observe(bulk.length);
    }
    const again: WriteRequest[] = [];
    let reason = '';
    results.forEach((result, i) => {
      const request = bulk[i] as WriteRequest;
      if (result.status === 'stored') request.done(result.duplicate ? STORED_DUPLICATE : STORED);
      else if (result.status === 'rejected') request.done({ status: 'refused', class: result.class === 'mapping' ? 'mapping' : 'rejected', reason: result.reason });
      else {
        again.push(request);
        reason ||= result.reason;
      }
    });
    if (express) this.expressInFlight = false;
    else this.inFlight--;
    this.inFlightDocuments -= bulk.length;
    this.countInFlight(bulk, -1);
    if (again.length > 0) {
      // Back to the front, in their order, to go first once Elasticsearch is ready again.
      for (let i = again.length - 1; i >= 0; i--) this.enqueue(again[i] as WriteRequest, true);
      this.oldestQueuedAt = 0;
      this.consecutiveFailures++;
      const delayMs = retryDelay(this.consecutiveFailures, this.options.backoff);
      this.retryAt = Math.max(this.retryAt, Date.now() + delayMs);
      metrics?.retries.inc({ kind: 'bulk' });
      this.options.logger.warn({ documents: again.length, of: bulk.length, reason, delayMs, consecutiveFailures: this.consecutiveFailures }, 'Elasticsearch asked to retry: waiting');
    } else {
      if (this.consecutiveFailures > 0) this.options.logger.info({ after: this.consecutiveFailures }, 'Elasticsearch takes documents again');
      this.consecutiveFailures = 0;
    }
    this.settleIdle();
    this.kick();
  }

  private settleIdle(): void {
    if (this.pending !== 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

const ABANDONED: WriteOutcome = Object.freeze({ status: 'abandoned' });
const STORED: WriteOutcome = Object.freeze({ status: 'stored', duplicate: false });
const STORED_DUPLICATE: WriteOutcome = Object.freeze({ status: 'stored', duplicate: true });

/** A FIFO with cheap shift and unshift (Array#shift is linear on large arrays). */
class RequestQueue {
  private items: WriteRequest[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(request: WriteRequest): void {
    this.items.push(request);
  }

  unshift(request: WriteRequest): void {
    if (this.head > 0) this.items[--this.head] = request;
    else this.items.unshift(request);
  }

  shift(): WriteRequest | undefined {
    if (this.head >= this.items.length) return undefined;
    const request = this.items[this.head] as WriteRequest;
    this.items[this.head++] = undefined as unknown as WriteRequest;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return request;
  }

  /** Removes and returns the requests matching `predicate`, keeping the others in order. */
  removeWhere(predicate: (request: WriteRequest) => boolean): WriteRequest[] {
    const removed: WriteRequest[] = [];
    const kept: WriteRequest[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const request = this.items[i] as WriteRequest;
      (predicate(request) ? removed : kept).push(request);
    }
    this.items = kept;
    this.head = 0;
    return removed;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 1) throw new RangeError(`${name} must be ≥ 1, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be ≥ 0, got ${value}`);
  return value;
}
