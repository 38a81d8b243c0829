import {
  deliver,
  DeadLetterGroups,
  SlackChannel,
  WebhookChannel,
  type AddressPolicy,
  type Attempt,
  type DeadLetterEntry,
  type DeadLetterNotification,
  type NotificationChannel,
  type SecretFiles,
} from '@tributary/notify';
import type { NotificationTarget } from '@tributary/pipeline';

/** One `spec.deadLetter.notify[i]` of a pipeline in force, as the notifier runs it. */
export interface SubscriptionConfig {
  readonly tenant: string;
  readonly pipeline: string;
  readonly target: NotificationTarget;
  /** The window, after the platform's minimum. */
  readonly windowMs: number;
  /** The pipeline's redaction, for samples and messages. */
  readonly redact: (text: string) => string;
}

/** How every subscription delivers: the platform's settings. */
export interface DeliverySettings {
  readonly policy: AddressPolicy;
  /** Where signing keys are mounted; without it a subscription with a `secretRef` can't deliver. */
  readonly secrets?: SecretFiles | undefined;
  readonly timeoutMs: number;
  readonly retryForMs: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Notifications waiting per subscription; beyond it new ones are suppressed. */
  readonly maxQueued: number;
  readonly maxSamples: number;
  readonly sampleChars: number;
}

/** How a notification ended. `suppressed`: its subscription's queue was full (a receiver that can't keep up). */
export interface Settlement {
  readonly subscription: Subscription;
  readonly notification: DeadLetterNotification;
  readonly outcome: 'delivered' | 'failed' | 'suppressed';
  readonly attempts: number;
  readonly last?: Attempt | undefined;
  /** From its window's close to the end of its delivery. */
  readonly ms: number;
  readonly at: Date;
}

export interface SubscriptionHooks {
  readonly settled: (settlement: Settlement) => void;
  readonly retrying: (subscription: Subscription, failure: Attempt) => void;
}

interface Queued {
  readonly notification: DeadLetterNotification;
  readonly closedAt: number;
}

/**
 * One subscription: its windows, its bounded queue and its one delivery at a time. Each
 * subscription delivers on its own, so a slow or dead endpoint delays only its own
 * notifications. Until a notification is settled (delivered, or definitively failed) its
 * dead letters hold back the commit of their partitions (`lowestOffset`): after a crash
 * they are read again and the notification goes again, with the same idempotency key.
 */
export class Subscription {
  private config: SubscriptionConfig;
  private groups: DeadLetterGroups;
  private readonly queue: Queued[] = [];
  private pumping = false;
  private stopped = false;
  private abort: AbortController | undefined;

  constructor(
    readonly id: string,
    config: SubscriptionConfig,
    private readonly settings: DeliverySettings,
    private readonly hooks: SubscriptionHooks,
  ) {
    this.config = config;
    this.groups = this.newGroups();
  }

  get tenant(): string {
    return this.config.tenant;
  }

  get pipeline(): string {
    return this.config.pipeline;
  }

  get target(): NotificationTarget {
    return this.config.target;
  }

  /** Notifications waiting or being delivered. */
  get queued(): number {
    return this.queue.length;
  }

  /** Dead letters in open windows. */
  get pending(): number {
    return this.groups.pending;
  }

  add(entry: DeadLetterEntry): void {
    this.groups.add(entry);
  }

  /** Closes the windows that `watermark` has passed; their notifications join the queue. */
  close(watermark: number, now = Date.now()): void {
    const closed = this.groups.close(watermark);
    if (closed.length > 0) this.enqueue(closed, now);
  }

  /**
   * A new version of the pipeline: the same subscription with another URL, key or window.
   * Open windows keep collecting (same keys) unless the window changed; a delivery under
   * way to an address that changed starts again to the new one.
   */
  reconfigure(config: SubscriptionConfig): void {
    const old = this.config;
    this.config = config;
    if (old.windowMs !== config.windowMs) {
      const flushed = this.groups.flush();
      this.groups = this.newGroups();
      this.enqueue(flushed, Date.now());
    }
    if (old.target.kind !== config.target.kind || old.target.url !== config.target.url || old.target.secretRef !== config.target.secretRef) this.abort?.abort();
  }

  /** The lowest offset of `partition` in an open window or an unsettled notification. */
  lowestOffset(partition: number): bigint | undefined {
    let lowest = this.groups.lowestOffset(partition);
    for (const { notification } of this.queue) {
      for (const range of notification.ranges) {
        if (range.partition !== partition) continue;
        const from = BigInt(range.from);
        if (lowest === undefined || from < lowest) lowest = from;
      }
    }
    return lowest;
  }

  /** Forgets what is open and queued, unsettled: the tenant's topic went to another member, which reads it again from the last commit. */
  reset(): void {
    this.queue.length = 0;
    this.groups = this.newGroups();
    this.abort?.abort();
  }

  /** Stops delivering; what is open or queued is left unsettled (read again by whoever reads next). */
  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private newGroups(): DeadLetterGroups {
    return new DeadLetterGroups({
      windowMs: this.config.windowMs,
      maxSamples: this.settings.maxSamples,
      sampleChars: this.settings.sampleChars,
      subscription: this.id,
      // Looked up at each use: a new version of the pipeline redacts with its own rules.
      redact: (_entry, text) => this.config.redact(text),
    });
  }

  private enqueue(notifications: readonly DeadLetterNotification[], closedAt: number): void {
    for (const notification of notifications) {
      if (this.queue.length >= this.settings.maxQueued) {
        this.hooks.settled({ subscription: this, notification, outcome: 'suppressed', attempts: 0, ms: 0, at: new Date() });
        continue;
      }
      this.queue.push({ notification, closedAt });
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const head = this.queue[0]!;
        const abort = new AbortController();
        this.abort = abort;
        const delivery = await deliver(this.channel(), head.notification, {
          retryForMs: this.settings.retryForMs,
          initialDelayMs: this.settings.initialDelayMs,
          maxDelayMs: this.settings.maxDelayMs,
          signal: abort.signal,
          onRetry: ({ failure }) => this.hooks.retrying(this, failure),
        });
        this.abort = undefined;
        if (this.stopped) return;
        // Aborted by reconfigure(): the same notification again, to the new address.
        if (abort.signal.aborted) continue;
        this.queue.shift();
        this.hooks.settled({
          subscription: this,
          notification: head.notification,
          outcome: delivery.delivered ? 'delivered' : 'failed',
          attempts: delivery.attempts,
          last: delivery.last,
          ms: Date.now() - head.closedAt,
          at: new Date(),
        });
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The channel of the current target; a webhook's key is read at every attempt, so a rotated key counts at once. */
  private channel(): NotificationChannel {
    const { target, tenant } = this.config;
    const http = { url: target.url, policy: this.settings.policy, timeoutMs: this.settings.timeoutMs };
    if (target.kind === 'slack') return new SlackChannel(http);
    const secretRef = target.secretRef;
    if (secretRef === undefined) return new WebhookChannel(http);
    const secrets = this.settings.secrets;
    return {
      kind: 'webhook',
      send: async (notification, signal) => {
        const secret = await secrets?.read(tenant, secretRef).catch(() => undefined);
        // Retried like an unreachable receiver: a Secret is often mounted a little after the manifest that names it.
        if (!secret) return { ok: false, retriable: true, reason: secrets ? `the secret "${secretRef}" is not mounted (${secrets.dir}/${tenant}/${secretRef})` : `the notifier has no secrets directory for "${secretRef}"` };
        return new WebhookChannel({ ...http, secret }).send(notification, signal);
      },
    };
  }
}
