import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` every `intervalMs` until it holds; fails the test with `what` (read at the end, if a function) after `timeoutMs`. */
export async function eventually(what: string | (() => string), check: () => Promise<boolean> | boolean, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not after ${timeoutMs} ms: ${typeof what === 'function' ? what() : what}`);
    await sleep(intervalMs);
  }
}
