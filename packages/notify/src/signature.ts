import { createHmac, timingSafeEqual } from 'node:crypto';

/** The headers of a webhook delivery. */
export const NOTIFICATION_HEADERS = {
  /** `v1=<hex HMAC-SHA256 over "<timestamp>.<body>">` with the subscription's secret. */
  signature: 'x-tributary-signature',
  /** Unix seconds when it was signed: part of what is signed, so an old delivery can't be replayed later. */
  timestamp: 'x-tributary-timestamp',
  /** The notification's `idempotencyKey`, the same on every retry and re-send. */
  idempotencyKey: 'x-tributary-idempotency-key',
} as const;

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export function signNotification(secret: string | Buffer, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver runs: the signature is the secret's over this timestamp and body, and the
 * timestamp within `toleranceS` of `now` (default 300 s). Compared in constant time.
 */
export function verifyNotification(secret: string | Buffer, headers: { signature: string | undefined; timestamp: string | undefined }, body: string, options: { toleranceS?: number; now?: number } = {}): boolean {
  const timestamp = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(timestamp)) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceS ?? 300)) return false;
  const expected = Buffer.from(signNotification(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
