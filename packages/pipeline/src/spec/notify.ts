import type { LoggingPipeline } from './manifest.js';

/** One `spec.deadLetter.notify[i]` entry, whichever channel it names. */
export interface NotificationTarget {
  /** Its place in `spec.deadLetter.notify`. */
  readonly index: number;
  readonly kind: 'webhook' | 'slack';
  readonly url: string;
  /** The webhook's signing key, by secret name. */
  readonly secretRef?: string | undefined;
  readonly windowSeconds?: number | undefined;
  /** Where its URL is in the manifest, for errors: `['spec', 'deadLetter', 'notify', i, kind, 'url']`. */
  readonly urlPath: ReadonlyArray<string | number>;
}

/** A (schema-valid) manifest's dead-letter subscriptions, in order. */
export function notificationTargets(manifest: LoggingPipeline): NotificationTarget[] {
  return (manifest.spec.deadLetter?.notify ?? []).flatMap((target, index): NotificationTarget[] => {
    if (target.webhook) {
      const { url, secretRef, windowSeconds } = target.webhook;
      return [{ index, kind: 'webhook', url, secretRef, windowSeconds, urlPath: ['spec', 'deadLetter', 'notify', index, 'webhook', 'url'] }];
    }
    if (target.slack) {
      const { url, windowSeconds } = target.slack;
      return [{ index, kind: 'slack', url, windowSeconds, urlPath: ['spec', 'deadLetter', 'notify', index, 'slack', 'url'] }];
    }
    return [];
  });
}
