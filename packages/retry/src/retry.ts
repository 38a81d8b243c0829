/**
 * The one retry helper: jittered exponential backoff, a `bail` for permanent errors,
 * abortable, and fast under test by injecting `sleep` and `random`.
 */

/** Thrown by a task (or by `bail`) to stop retrying: `retry` rejects with `cause`, or with this error when it has none. */
export class PermanentError extends Error {
  constructor(cause?: unknown, message = 'permanent error: not retried') {
    super(cause instanceof Error ? cause.message : message, cause === undefined ? undefined : { cause });
    this.name = 'PermanentError';
  }
}

/** A configuration fault: the retry options contradict each other or are out of range. */
export class InvalidRetryOptionsError extends Error {
  readonly code = 'TRIBUTARY_INVALID_RETRY_OPTIONS';
  readonly retriable = false;
  constructor(reason: string) {
    super(`retry options: ${reason}`);
    this.name = 'InvalidRetryOptionsError';
  }
}

/** Stops retrying: `retry` rejects with `error`. Never returns, so `return bail(err)` type-checks anywhere. */
export type Bail = (error: unknown) => never;

export interface RetryOptions {
  /** Retries after the first attempt (attempts = retries + 1). Default `Infinity`. */
  readonly retries?: number;
  /** Delay before the first retry, ms. Default 100. */
  readonly initialMs?: number;
  /** Upper bound of any delay, ms. Default 30 000. */
  readonly maxMs?: number;
  /** Growth of the delay per retry. Default 2. */
  readonly factor?: number;
  /**
   * Fraction of each delay that is random, 0–1: the delay is uniform in
   * `[(1 - jitter) · d, d]` where `d = min(maxMs, initialMs · factor^(n-1))`.
   * `1` is "full jitter" (uniform in `[0, d]`), `0` none. Default 0.2.
   */
  readonly jitter?: number;
  /** Aborting rejects `retry` at once with `signal.reason`, also while an attempt runs. */
  readonly signal?: AbortSignal;
  /** Whether a thrown error is worth another attempt. Default: every error is. */
  readonly isRetriable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log or count: the failed attempt, its error, the delay. */
  readonly onRetry?: (info: { readonly attempt: number; readonly error: unknown; readonly delayMs: number }) => void;
  /** Waits `ms` (may settle early once `signal` aborts); injectable so tests run without real time. Default: a timer, cleared on abort. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1); injectable for deterministic tests. Default `Math.random`. */
  readonly random?: () => number;
}

interface Resolved {
  retries: number;
  initialMs: number;
  maxMs: number;
  factor: number;
  jitter: number;
}

/**
 * Runs `task` until it resolves, retrying failures with backoff. `attempt` starts at 1.
 * Rejects with the last error when the retries are spent or the error is not retriable,
 * with the bailed error on `bail(err)` / `throw new PermanentError(err)`, and with
 * `signal.reason` on abort. Invalid options throw `InvalidRetryOptionsError` at once.
 */
export function retry<T>(task: (attempt: number, bail: Bail) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const resolved = resolveOptions(options);
  return run(task, options, resolved);
}

/**
 * The delay before retry number `retryNumber` (1-based), with the same defaults, growth and
 * jitter as `retry`: for loops that can't be written as one `retry` call (a queue that
 * retries some of its items). Invalid options throw `InvalidRetryOptionsError`.
 */
export function retryDelay(retryNumber: number, options: Pick<RetryOptions, 'initialMs' | 'maxMs' | 'factor' | 'jitter' | 'random'> = {}): number {
  return backoffDelay(Math.max(1, retryNumber), (options.random ?? Math.random)(), resolveOptions(options));
}

/** The delay before retry number `retryNumber` (1-based) for a random draw `r` in [0, 1). */
function backoffDelay(retryNumber: number, r: number, { initialMs, maxMs, factor, jitter }: Resolved): number {
  const base = Math.min(maxMs, initialMs * factor ** (retryNumber - 1));
  return Math.round(base * (1 - jitter * r));
}

function resolveOptions(options: RetryOptions): Resolved {
  const resolved: Resolved = {
    retries: options.retries ?? Infinity,
    initialMs: options.initialMs ?? 100,
    maxMs: options.maxMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 0.2,
  };
  const { retries, initialMs, maxMs, factor, jitter } = resolved;
  if (!(retries >= 0) || (Number.isFinite(retries) && !Number.isInteger(retries))) throw new InvalidRetryOptionsError(`retries must be a whole number ≥ 0 or Infinity, got ${retries}`);
  if (!(initialMs >= 0) || !Number.isFinite(initialMs)) throw new InvalidRetryOptionsError(`initialMs must be ≥ 0, got ${initialMs}`);
  if (!(maxMs >= initialMs) || !Number.isFinite(maxMs)) throw new InvalidRetryOptionsError(`maxMs must be finite and ≥ initialMs (${initialMs}), got ${maxMs}`);
  if (!(factor >= 1) || !Number.isFinite(factor)) throw new InvalidRetryOptionsError(`factor must be ≥ 1, got ${factor}`);
  if (!(jitter >= 0 && jitter <= 1)) throw new InvalidRetryOptionsError(`jitter must be between 0 and 1, got ${jitter}`);
  return resolved;
}

async function run<T>(task: (attempt: number, bail: Bail) => Promise<T>, options: RetryOptions, resolved: Resolved): Promise<T> {
  const { signal, isRetriable = () => true, onRetry, sleep = defaultSleep, random = Math.random } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    let bailed: { readonly error: unknown } | undefined;
    const bail: Bail = (error) => {
      bailed = { error };
      throw new PermanentError(error);
    };
    let error: unknown;
    try {
      // A task that is already running can't be stopped from here: pass it the signal too.
      const value = await whileNotAborted(Promise.resolve().then(() => task(attempt, bail)), signal);
      if (bailed) throw bailed.error; // bailed, but the task swallowed it and resolved
      return value;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      error = err;
    }
    if (bailed) throw bailed.error;
    if (error instanceof PermanentError) throw error.cause === undefined ? error : error.cause;
    if (attempt > resolved.retries || !isRetriable(error)) throw error;
    const delayMs = backoffDelay(attempt, random(), resolved);
    onRetry?.({ attempt, error, delayMs });
    await whileNotAborted(sleep(delayMs, signal), signal);
  }
}

/** `promise`, or a rejection with `signal.reason` as soon as the signal aborts. */
function whileNotAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
