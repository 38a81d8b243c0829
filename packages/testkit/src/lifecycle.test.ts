import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { assertLifecycle, type Lifecycle } from './lifecycle.js';

/** A well-behaved component: a TCP listener. */
class Listener implements Lifecycle {
  private server: Server | undefined;
  private stopping: Promise<void> | undefined;
  async start(): Promise<void> {
    if (this.server) return;
    this.server = createServer();
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }
  stop(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.stopping ??= new Promise((resolve) => server.close(() => resolve()));
    return this.stopping;
  }
}

test('a component that keeps the contract passes', async () => {
  await assertLifecycle(() => new Listener());
});

test('a component whose second start() throws fails the check', async () => {
  class Strict extends Listener {
    private started = false;
    override async start(): Promise<void> {
      if (this.started) throw new Error('already started');
      this.started = true;
      await super.start();
    }
  }
  await assert.rejects(assertLifecycle(() => new Strict()), /already started/);
});

test('a component whose stop() hangs before start() fails the check with a clear message', async () => {
  const hangs: Lifecycle = { start: async () => undefined, stop: () => new Promise(() => undefined) };
  await assert.rejects(assertLifecycle(() => hangs, { timeoutMs: 100 }), /stop\(\) before start\(\) did not settle within 100 ms/);
});
