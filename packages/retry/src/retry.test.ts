import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRetryOptionsError, PermanentError, retry, retryDelay, type RetryOptions } from './retry.js';

/** Records every delay instead of waiting, so tests take no real time. */
function fakeTime(): { delays: number[]; sleep: NonNullable<RetryOptions['sleep']> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

/** A task that fails `failures` times, then resolves with the attempt number. */
function failing(failures: number, error: () => unknown = () => new Error('boom')): { attempts: number[]; task: (attempt: number) => Promise<number> } {
  const attempts: number[] = [];
  return {
    attempts,
    task: async (attempt) => {
      attempts.push(attempt);
      if (attempts.length <= failures) throw error();
      return attempt;
    },
  };
}

test('resolves on the first success, counting attempts from 1', async () => {
  const time = fakeTime();
  const { attempts, task } = failing(3);
  assert.equal(await retry(task, { sleep: time.sleep }), 4);
  assert.deepEqual(attempts, [1, 2, 3, 4]);
  assert.equal(time.delays.length, 3);
});

test('gives up after `retries` retries with the last error', async () => {
  const time = fakeTime();
  let n = 0;
  const { attempts, task } = failing(10, () => new Error(`boom ${++n}`));
  await assert.rejects(retry(task, { retries: 2, sleep: time.sleep }), /boom 3/);
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.equal(time.delays.length, 2);
});

test('retries: 0 runs the task once', async () => {
  const { attempts, task } = failing(1);
  await assert.rejects(retry(task, { retries: 0, sleep: fakeTime().sleep }), /boom/);
  assert.deepEqual(attempts, [1]);
});

test('retries forever by default', async () => {
  const time = fakeTime();
  const { attempts, task } = failing(200);
  assert.equal(await retry(task, { sleep: time.sleep, random: () => 0 }), 201);
  assert.equal(attempts.length, 201);
  assert.deepEqual(time.delays.slice(0, 3), [100, 200, 400], 'defaults: 100 ms, doubling');
  assert.equal(Math.max(...time.delays), 30_000, 'capped at maxMs');
});

test('without jitter the delays grow by `factor` up to `maxMs`', async () => {
  const time = fakeTime();
  const { task } = failing(7);
  await retry(task, { initialMs: 100, factor: 2, maxMs: 2_000, jitter: 0, sleep: time.sleep });
  assert.deepEqual(time.delays, [100, 200, 400, 800, 1_600, 2_000, 2_000]);
});

test('jitter takes up to its fraction off each delay, never more', async () => {
  for (const [random, expected] of [
    [() => 0, [100, 200, 400, 800, 1_000]],
    [() => 0.999_999, [80, 160, 320, 640, 800]],
    [() => 0.5, [90, 180, 360, 720, 900]],
  ] as const) {
    const time = fakeTime();
    await retry(failing(5).task, { initialMs: 100, maxMs: 1_000, jitter: 0.2, random, sleep: time.sleep });
    assert.deepEqual(time.delays, expected);
  }
});

test('full jitter (jitter: 1) spreads each delay over [0, d]', async () => {
  const time = fakeTime();
  const draws = [0.999_999, 0, 0.25, 0.5];
  await retry(failing(4).task, { initialMs: 100, jitter: 1, random: () => draws.shift() ?? 0, sleep: time.sleep });
  assert.deepEqual(time.delays, [0, 200, 300, 400]);
  const spread = fakeTime();
  await retry(failing(50).task, { initialMs: 10, maxMs: 1_000, jitter: 1, sleep: spread.sleep });
  for (const [i, delay] of spread.delays.entries()) {
    assert.ok(delay >= 0 && delay <= Math.min(1_000, 10 * 2 ** i), `delay ${i} = ${delay}`);
  }
});

test('the real default sleep waits: small delays under test', async () => {
  const started = Date.now();
  assert.equal(await retry(failing(3).task, { initialMs: 5, maxMs: 20, jitter: 0 }), 4);
  const took = Date.now() - started;
  assert.ok(took >= 5 + 10 + 20 - 3, `took ${took} ms`);
});

test('onRetry sees each failed attempt, its error and the delay', async () => {
  const seen: Array<[number, string, number]> = [];
  await retry(failing(2).task, {
    initialMs: 10,
    jitter: 0,
    sleep: fakeTime().sleep,
    onRetry: ({ attempt, error, delayMs }) => void seen.push([attempt, (error as Error).message, delayMs]),
  });
  assert.deepEqual(seen, [
    [1, 'boom', 10],
    [2, 'boom', 20],
  ]);
});

test('bail(err) stops at once and rejects with err', async () => {
  const time = fakeTime();
  const permanent = new Error('mapping conflict');
  const attempts: number[] = [];
  await assert.rejects(
    retry(async (attempt, bail) => {
      attempts.push(attempt);
      if (attempt === 2) bail(permanent);
      throw new Error('transient');
    }, { sleep: time.sleep }),
    (err) => err === permanent,
  );
  assert.deepEqual(attempts, [1, 2]);
  assert.equal(time.delays.length, 1);
});

test('bail wins even when the task swallows what it throws', async () => {
  const permanent = new Error('bailed');
  await assert.rejects(
    retry(async (_attempt, bail) => {
      try {
        bail(permanent);
      } catch {
        // a careless catch-all
      }
      return 'value';
    }, { sleep: fakeTime().sleep }),
    (err) => err === permanent,
  );
});

test('throwing a PermanentError stops at once, rejecting with its cause', async () => {
  const cause = new Error('bad document');
  const { attempts, task } = failing(5, () => new PermanentError(cause));
  await assert.rejects(retry(task, { sleep: fakeTime().sleep }), (err) => err === cause);
  assert.deepEqual(attempts, [1]);
  const bare = new PermanentError(undefined, 'no cause');
  await assert.rejects(retry(async () => { throw bare; }), (err) => err === bare);
});

test('isRetriable decides which errors get another attempt', async () => {
  const fatal = Object.assign(new Error('fatal'), { retriable: false });
  let n = 0;
  const { attempts, task } = failing(5, () => (++n < 3 ? new Error('transient') : fatal));
  await assert.rejects(
    retry(task, { sleep: fakeTime().sleep, isRetriable: (err) => (err as { retriable?: boolean }).retriable !== false }),
    (err) => err === fatal,
  );
  assert.deepEqual(attempts, [1, 2, 3]);
});

test('an already aborted signal rejects with its reason without running the task', async () => {
  const reason = new Error('shutting down');
  let ran = false;
  await assert.rejects(
    retry(async () => void (ran = true), { signal: AbortSignal.abort(reason) }),
    (err) => err === reason,
  );
  assert.equal(ran, false);
});

test('aborting during a wait rejects promptly with the reason, stopping further attempts', async () => {
  const controller = new AbortController();
  const reason = new Error('stop');
  const { attempts, task } = failing(Infinity);
  const started = Date.now();
  const pending = retry(task, { initialMs: 60_000, maxMs: 60_000, signal: controller.signal });
  setTimeout(() => controller.abort(reason), 20);
  await assert.rejects(pending, (err) => err === reason);
  assert.ok(Date.now() - started < 5_000);
  assert.deepEqual(attempts, [1]);
});

test('aborting while an attempt runs rejects at once with the reason', async () => {
  const controller = new AbortController();
  const pending = retry(() => new Promise<never>(() => undefined), { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, (err) => err instanceof DOMException && err.name === 'AbortError');
});

test('aborting from onRetry stops before the next attempt', async () => {
  const controller = new AbortController();
  const { attempts, task } = failing(Infinity);
  await assert.rejects(
    retry(task, { signal: controller.signal, onRetry: () => controller.abort('enough') }),
    (err) => err === 'enough',
  );
  assert.deepEqual(attempts, [1]);
});

test('contradictory or out-of-range options fail fast with a coded error', () => {
  const task = async (): Promise<void> => undefined;
  for (const options of [{ retries: -1 }, { retries: 1.5 }, { initialMs: -1 }, { initialMs: 200, maxMs: 100 }, { factor: 0.5 }, { jitter: 1.5 }, { maxMs: Infinity }] as RetryOptions[]) {
    assert.throws(() => retry(task, options), (err) => err instanceof InvalidRetryOptionsError && err.code === 'TRIBUTARY_INVALID_RETRY_OPTIONS', JSON.stringify(options));
  }
});

test('retryDelay grows like retry’s waits, is capped, jittered downwards, and checks its options', () => {
  const none = { initialMs: 100, maxMs: 1000, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(n, none)), [100, 200, 400, 800, 1000]);
  assert.equal(retryDelay(0, none), 100, 'retry numbers start at 1');
  assert.equal(retryDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.999999 }), 200);
  assert.throws(() => retryDelay(1, { initialMs: 10, maxMs: 5 }), InvalidRetryOptionsError);
});
