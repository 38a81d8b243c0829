import type { DeadLetterNotification } from './grouping.js';

/** The value of `tributary.deliveries` for one subscription: its last settled notification. */
export interface DeliveryStatus {
  readonly tenant: string;
  readonly pipeline: string;
  /** Its place in the pipeline's `spec.deadLetter.notify`. */
  readonly subscription: number;
  readonly channel: string;
  /** Scheme, host and port of the URL only: the rest of a URL can be a secret (a Slack hook's path is). */
  readonly destination: string;
  readonly last: {
    readonly at: string;
    readonly outcome: 'delivered' | 'failed' | 'suppressed';
    readonly idempotencyKey: string;
    readonly class: DeadLetterNotification['class'];
    readonly count: number;
    readonly window: DeadLetterNotification['window'];
    readonly attempts: number;
    /** The receiver's last answer, when it gave one. */
    readonly status?: number | undefined;
    /** Why it failed, or why the last failed attempt did. */
    readonly reason?: string | undefined;
  };
}

/** `<tenant>/<pipeline>#<i>`: the key of a subscription's delivery status. */
export function deliveryStatusKey(tenant: string, pipeline: string, subscription: number): string {
  return `${tenant}/${pipeline}#${subscription}`;
}

/** `https://hooks.example:8443/x/y?z` → `https://hooks.example:8443`: what status may show of a URL. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}
