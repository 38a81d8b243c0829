import { retryDelay } from '@tributary/retry';

export interface ReconcileQueueOptions {
  /** Reconciles one key; a throw means "try again later", with backoff; a number, "again after this many ms". */
  readonly reconcile: (key: string) => Promise<number | void>;
  /** Keys reconciled at once (different keys only: one key is never reconciled twice at once). */
  readonly concurrency?: number;
  /** Backoff of a key whose reconcile threw: 1 s doubling to this; default 60 000. */
  readonly maxBackoffMs?: number;
  /** Told of every throw, with the attempt number (1-based) and the delay before the next. */
  readonly onError?: (key: string, error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * The operator's work queue, as controller-runtime's: a key added many times is reconciled
 * once; a key added while it is being reconciled is reconciled again after; a key that
 * fails comes back after a jittered, growing delay, and its failures are forgotten once it
 * succeeds. Keys, not objects, are queued, so a reconcile always reads the latest object.
 */
export class ReconcileQueue {
  private readonly ready = new Set<string>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: ReconcileQueueOptions) {}

  /** Keys waiting (now or after a delay) and being reconciled. */
  get depth(): number {
    return new Set([...this.ready, ...this.delayed.keys(), ...this.dirty]).size;
  }

  /** Queues `key` now, or after `delayMs` (a sooner add wins). */
  add(key: string, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      if (this.ready.has(key) || this.delayed.has(key)) return;
      const timer = setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, delayMs);
      timer.unref();
      this.delayed.set(key, timer);
      return;
    }
    const timer = this.delayed.get(key);
    if (timer) {
      clearTimeout(timer);
      this.delayed.delete(key);
    }
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.ready.add(key);
    this.pump();
  }

  /** Resolves when nothing is queued or running (delayed retries don't count); for tests and shutdown. */
  idle(): Promise<void> {
    if (this.ready.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no more keys and waits for the reconciles under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.ready.clear();
    this.dirty.clear();
    await this.idle();
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    for (const key of this.ready) {
      if (this.running.size >= concurrency) return;
      this.ready.delete(key);
      this.running.add(key);
      void this.work(key);
    }
  }

  private async work(key: string): Promise<void> {
    try {
      const again = await this.options.reconcile(key);
      this.failures.delete(key);
      if (typeof again === 'number') this.add(key, again);
    } catch (err) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      const delayMs = retryDelay(attempt, { initialMs: 1000, maxMs: this.options.maxBackoffMs ?? 60_000 });
      this.options.onError?.(key, err, attempt, delayMs);
      this.running.delete(key);
      // A change that came in meanwhile is retried at the same pace: it will likely fail the same way.
      this.dirty.delete(key);
      this.add(key, delayMs);
      this.settle();
      return;
    }
    this.running.delete(key);
    if (this.dirty.delete(key)) this.add(key);
    this.settle();
  }

  private settle(): void {
    this.pump();
    if (this.ready.size === 0 && this.running.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
