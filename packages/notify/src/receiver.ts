import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeadLetterNotification } from './grouping.js';
import { NOTIFICATION_HEADERS, verifyNotification } from './signature.js';

/** One request the receiver got. */
export interface ReceivedNotification {
  readonly at: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body as a notification, when it is JSON. */
  readonly notification: DeadLetterNotification | undefined;
  /** With a secret: whether the signature checked out. */
  readonly verified: boolean | undefined;
  /** What the receiver answered. */
  readonly status: number | 'hang';
}

export interface WebhookReceiverOptions {
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Checks each request's signature with it (`verified`). */
  readonly secret?: string | Buffer;
  /** The status to answer the n-th request (1-based) with, or `hang` to never answer; default 204. */
  readonly answer?: (n: number, received: ReceivedNotification) => number | 'hang';
  readonly onReceived?: (received: ReceivedNotification) => void;
}

export interface WebhookReceiver {
  /** `http://<host>:<port>/hook`. */
  readonly url: string;
  readonly received: ReceivedNotification[];
  close(): Promise<void>;
}

/**
 * A small webhook receiver: what `npm start`'s demo prints notifications with, and what the
 * tests and the bench deliver to. A real HTTP server; it keeps every request it got.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const received: ReceivedNotification[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let notification: DeadLetterNotification | undefined;
      try {
        notification = JSON.parse(body) as DeadLetterNotification;
      } catch {
        notification = undefined;
      }
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const verified = options.secret === undefined ? undefined : verifyNotification(options.secret, { signature: header(NOTIFICATION_HEADERS.signature), timestamp: header(NOTIFICATION_HEADERS.timestamp) }, body);
      const draft = { at: Date.now(), headers: req.headers, body, notification, verified, status: 204 as number | 'hang' };
      const status = options.answer ? options.answer(received.length + 1, draft) : 204;
      const entry: ReceivedNotification = { ...draft, status };
      received.push(entry);
      options.onReceived?.(entry);
      if (status === 'hang') return;
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {}).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/hook`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections(); // a hung request's too
        server.close(() => resolve());
      }),
  };
}
