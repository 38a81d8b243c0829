import { connect, createServer, type Server, type Socket } from 'node:net';

/** Where a proxy forwards: an engine URL (`http://127.0.0.1:9200`), `host:port`, or both parts. */
export type TcpProxyTarget = string | { readonly host: string; readonly port: number };

export interface TcpProxyOptions {
  readonly target: TcpProxyTarget;
  /** Port to listen on; default 0 (a free one, kept across `cut()` and `restore()`). */
  readonly port?: number;
  /** Address to listen on; default 127.0.0.1. */
  readonly host?: string;
}

/**
 * A TCP proxy that can take an engine off the network and bring it back, for fault tests
 * against real engines shared by the whole test run: point one client (a processor in a
 * child process, say) at `url` instead of the engine, then `cut()` and `restore()`.
 *
 * - `cut()` behaves like the engine's process dying: the listener closes, so new
 *   connections are refused (ECONNREFUSED), and every open connection is closed at once,
 *   requests in flight included (both sides: the client's and the engine's).
 * - `restore()` listens again on the same port: the engine is back at the same address.
 *
 * Bytes are forwarded as they are, so any TCP protocol works. Kafka doesn't work through it:
 * a broker tells clients to connect to its advertised listener, not to the proxy.
 */
export class TcpProxy {
  readonly host: string;
  private readonly target: { host: string; port: number; protocol: string };
  private server: Server | undefined;
  private listeningPort: number | undefined;
  /** Each open connection: the client's socket and the target's. */
  private readonly connections = new Set<readonly [Socket, Socket]>();
  private accepted = 0;
  private cutNow = false;
  private stopped = false;
  /** cut(), restore() and stop() run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: TcpProxyOptions) {
    this.target = parseTarget(options.target);
    this.host = options.host ?? '127.0.0.1';
  }

  /** The port clients connect to; the same after `restore()`. */
  get port(): number {
    if (this.listeningPort === undefined) throw new Error('the TCP proxy is not started');
    return this.listeningPort;
  }

  /** `host:port` clients connect to. */
  get address(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** The proxy as a URL with the target's scheme (`http://127.0.0.1:41234` for an Elasticsearch URL; `tcp://…` for `host:port`). */
  get url(): string {
    return `${this.target.protocol}//${this.address}`;
  }

  /** Whether the proxy is cut now. */
  get isCut(): boolean {
    return this.cutNow;
  }

  /** Connections open through the proxy now. */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Connections accepted since start. */
  get acceptedConnections(): number {
    return this.accepted;
  }

  /** Listens (on a free port unless `port` was given). Calling it again is harmless. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      if (this.stopped) throw new Error('the TCP proxy was stopped');
      await this.listen(this.options.port ?? 0);
    })();
    return this.starting;
  }

  /** Refuses new connections and closes the open ones, as if the target's process died. No-op when already cut. */
  cut(): Promise<void> {
    return this.enqueue(async () => {
      if (this.cutNow || this.stopped) return;
      this.cutNow = true;
      await this.close();
    });
  }

  /** Listens again on the same port. No-op when not cut. Rejects if another process took the port meanwhile. */
  restore(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.cutNow || this.stopped) return;
      await this.listen(this.port);
      this.cutNow = false;
    });
  }

  /** Closes the listener and every connection. Safe before start(), twice, and concurrently. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      this.stopped = true;
      // A cut() or restore() under way finishes first; any called later does nothing.
      await this.queue;
      await this.close();
    })();
    return this.stopping;
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const starting = this.starting;
    if (!starting) return Promise.reject(new Error('the TCP proxy is not started'));
    const run = this.queue.then(async () => {
      await starting;
      await operation();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // An error on a listening server (rare: EMFILE on accept) must not crash the test process.
    server.on('error', () => undefined);
    const address = server.address();
    this.listeningPort = typeof address === 'object' && address !== null ? address.port : port;
    this.server = server;
  }

  /** Closes the listener, destroys every connection, and resolves once the listener is closed. */
  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const pair of this.connections) for (const socket of pair) socket.destroy();
    this.connections.clear();
    await closed;
  }

  private forward(client: Socket): void {
    if (this.cutNow || this.stopped) {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true, allowHalfOpen: true });
    const pair = [client, upstream] as const;
    this.connections.add(pair);
    // Either side failing (the target refusing, a reset) or closing closes both, as a dead peer would.
    const end = (): void => {
      this.connections.delete(pair);
      for (const socket of pair) socket.destroy();
    };
    for (const socket of pair) {
      socket.on('error', end);
      socket.on('close', end);
    }
    // Half-open on both sides: an end from one side is passed on, and the answer still comes back.
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** Starts a proxy to `options.target` and resolves once it listens. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const proxy = new TcpProxy(options);
  await proxy.start();
  return proxy;
}

function parseTarget(target: TcpProxyTarget): { host: string; port: number; protocol: string } {
  if (typeof target !== 'string') return { host: target.host, port: checkPort(target.port, JSON.stringify(target)), protocol: 'tcp:' };
  let url: URL;
  try {
    url = new URL(target.includes('://') ? target : `tcp://${target}`);
  } catch {
    throw new Error(`TCP proxy target "${target}": expected a URL or host:port`);
  }
  const defaultPort = url.protocol === 'http:' ? '80' : url.protocol === 'https:' ? '443' : '';
  const port = url.port || defaultPort;
  if (!url.hostname || !port) throw new Error(`TCP proxy target "${target}": expected a URL or host:port`);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: checkPort(Number(port), target), protocol: url.protocol };
}

function checkPort(port: number, target: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`TCP proxy target ${target}: port must be 1–65535`);
  return port;
}
