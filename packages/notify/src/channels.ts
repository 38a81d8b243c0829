import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelay } from '@tributary/retry';
import type { AddressPolicy } from './address-policy.js';
import type { DeadLetterNotification } from './grouping.js';
import { NOTIFICATION_HEADERS, signNotification } from './signature.js';
import { slackMessage } from './slack.js';
import { checkWebhookUrl, guardedLookup } from './webhook-url.js';

/** How one attempt went. `retriable`: worth trying again (429, 5xx, a timeout, no connection). */
export type Attempt = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly status?: number; readonly reason: string; readonly retriable: boolean };

/** Where notifications go: one small interface, so channels other than these two can be added. */
export interface NotificationChannel {
  /** `webhook`, `slack`, …: for metrics and status. */
  readonly kind: string;
  /** One attempt to deliver `notification`; never throws. */
  send(notification: DeadLetterNotification, signal?: AbortSignal): Promise<Attempt>;
}

export interface HttpChannelOptions {
  readonly url: string;
  /** Which addresses may be called: checked again at every send (a name may resolve elsewhere now). */
  readonly policy: AddressPolicy;
  /** An attempt's limit, connection to response; default 10 000 ms. */
  readonly timeoutMs?: number;
}

/**
 * The generic webhook: the notification as JSON (`version` 1, see the README), signed with
 * the subscription's secret when it has one (`X-Tributary-Signature` over timestamp and
 * body), its `idempotencyKey` also a header. Redirects are not followed: a receiver that
 * moved says so in its answer, and a redirect could point inside.
 */
export class WebhookChannel implements NotificationChannel {
  readonly kind = 'webhook';
  constructor(private readonly options: HttpChannelOptions & { readonly secret?: string | Buffer | undefined }) {}

  send(notification: DeadLetterNotification, signal?: AbortSignal): Promise<Attempt> {
    const body = JSON.stringify(notification);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [NOTIFICATION_HEADERS.idempotencyKey]: notification.idempotencyKey,
      [NOTIFICATION_HEADERS.timestamp]: String(timestamp),
    };
    if (this.options.secret !== undefined) headers[NOTIFICATION_HEADERS.signature] = signNotification(this.options.secret, timestamp, body);
    return post(this.options, body, headers, signal);
  }
}

/** A Slack-compatible incoming webhook: `slackMessage` of the notification. */
export class SlackChannel implements NotificationChannel {
  readonly kind = 'slack';
  constructor(private readonly options: HttpChannelOptions) {}

  send(notification: DeadLetterNotification, signal?: AbortSignal): Promise<Attempt> {
    return post(this.options, JSON.stringify(slackMessage(notification)), { 'content-type': 'application/json' }, signal);
  }
}

export interface DeliveryOptions {
  /** How long to go on retrying a retriable failure; default 15 min. */
  readonly retryForMs?: number;
  /** Backoff between attempts: from this, doubling, jittered, at most `maxDelayMs`. Defaults 1 000 and 60 000 ms. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly signal?: AbortSignal;
  readonly onRetry?: (info: { readonly attempt: number; readonly failure: Attempt; readonly delayMs: number }) => void;
}

export interface Delivery {
  readonly delivered: boolean;
  readonly attempts: number;
  /** The last attempt. */
  readonly last: Attempt;
  readonly ms: number;
}

/**
 * Sends one notification until it is delivered, a failure is not retriable (4xx other than
 * 408 and 429, a refused address, a redirect), or `retryForMs` has passed: then it is
 * definitively failed, and the caller records that in the tenant's status. The same body
 * and idempotency key every attempt.
 */
export async function deliver(channel: NotificationChannel, notification: DeadLetterNotification, options: DeliveryOptions = {}): Promise<Delivery> {
  const started = Date.now();
  const retryForMs = options.retryForMs ?? 15 * 60_000;
  for (let attempt = 1; ; attempt++) {
    const last = await channel.send(notification, options.signal);
    if (last.ok || !last.retriable || options.signal?.aborted) return { delivered: last.ok, attempts: attempt, last, ms: Date.now() - started };
    const delayMs = retryDelay(attempt, { initialMs: options.initialDelayMs ?? 1000, maxMs: options.maxDelayMs ?? 60_000 });
    if (Date.now() + delayMs - started > retryForMs) return { delivered: false, attempts: attempt, last, ms: Date.now() - started };
    options.onRetry?.({ attempt, failure: last, delayMs });
    try {
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {});
    } catch {
      return { delivered: false, attempts: attempt, last, ms: Date.now() - started };
    }
  }
}

async function post(options: HttpChannelOptions, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Attempt> {
  // The URL's own rules and an IP literal here; a name's address when connecting (guardedLookup), so it is resolved once.
  const checked = await checkWebhookUrl(options.url, options.policy, { resolve: false });
  if (!checked.ok) return { ok: false, reason: checked.reason, retriable: false };
  const url = new URL(options.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutMs ?? 10_000;
  // The whole attempt, not only silence on the socket: a receiver that answers a byte at a
  // time would otherwise hold its subscription's deliveries for ever.
  const deadline = AbortSignal.timeout(timeoutMs);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    const done = (attempt: Attempt): void => {
      if (settled) return;
      settled = true;
      resolve(attempt);
    };
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'tributary-notifier' }, lookup: guardedLookup(options.policy), timeout: timeoutMs, signal: abort },
      (res: IncomingMessage) => {
        res.resume(); // the answer's body doesn't matter, only its status
        res.on('end', () => done(outcome(res.statusCode ?? 0, res.headers.location)));
        res.on('error', (err) => done({ ok: false, reason: deadline.aborted ? `no whole answer within ${timeoutMs} ms` : `the answer broke off: ${err.message}`, retriable: true }));
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (deadline.aborted) return done({ ok: false, reason: `no whole answer within ${timeoutMs} ms`, retriable: true });
      done({ ok: false, reason: err.message, retriable: err.code !== 'TRIBUTARY_BLOCKED_ADDRESS' });
    });
    req.end(body);
  });
}

function outcome(status: number, location: string | undefined): Attempt {
  if (status >= 200 && status < 300) return { ok: true, status };
  if (status >= 300 && status < 400) return { ok: false, status, reason: `answered ${status}${location ? ` (to ${location.slice(0, 200)})` : ''}: redirects are not followed`, retriable: false };
  return { ok: false, status, reason: `answered ${status}`, retriable: status === 408 || status === 429 || status >= 500 };
}
