import assert from 'node:assert/strict';

/** Anything long-lived in Tributary: a consumer, a writer, a service. */
export interface Lifecycle {
  start(): Promise<void>;
  /** Flushes and releases everything; honours its own deadline. */
  stop(): Promise<void>;
}

/**
 * The lifecycle contract every component's tests check (after the OpenTelemetry
 * Collector's generated component tests): `stop()` before `start()` is safe, `start()`
 * twice is harmless, concurrent `stop()` calls share one stop, and `stop()` twice is safe.
 * `create` must return a fresh component each call.
 */
export async function assertLifecycle(create: () => Lifecycle | Promise<Lifecycle>, options: { timeoutMs?: number } = {}): Promise<void> {
  const within = <T>(what: string, promise: Promise<T>): Promise<T> => withTimeout(what, promise, options.timeoutMs ?? 30_000);

  const created: Lifecycle[] = [];
  const fresh = async (): Promise<Lifecycle> => {
    const component = await create();
    created.push(component);
    return component;
  };
  try {
    const neverStarted = await fresh();
    await within('stop() before start()', neverStarted.stop());

    const component = await fresh();
    await within('start()', component.start());
    await within('a second start()', component.start());
    await within('concurrent stop() calls', Promise.all([component.stop(), component.stop()]));
    await within('stop() after stop()', component.stop());

    const restarted = await fresh();
    await within('start() of a second instance', restarted.start());
    await within('its stop()', restarted.stop());
  } catch (err) {
    // A failed check must not leave a started component holding the test process open.
    await Promise.allSettled(created.map((c) => withTimeout('cleanup stop()', Promise.resolve().then(() => c.stop()), 1000)));
    throw err;
  }
}

async function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `${what} did not settle within ${ms} ms` })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
