import { notificationTargets, textRedactor, type RegisteredPipeline } from '@tributary/pipeline';
import { Subscription, type DeliverySettings, type SubscriptionHooks } from './subscription.js';

export interface SubscriptionBookOptions {
  readonly settings: DeliverySettings;
  readonly hooks: SubscriptionHooks;
  /** A subscription's window when its manifest gives none; default 60 000 ms. */
  readonly defaultWindowMs?: number;
  /** The platform's minimum: a shorter window asked for is raised to it; default 10 000 ms. */
  readonly minWindowMs?: number;
}

/**
 * Every tenant's subscriptions: the `spec.deadLetter.notify` of its pipelines in force,
 * kept in step with the `PipelineRegistry` (`sync` after each change). A tenant's
 * subscriptions receive only that tenant's dead letters: a dead letter of pipeline P goes
 * to P's subscriptions, one without a pipeline (its record did not decode, so no pipeline
 * was chosen) to every subscription of its tenant.
 */
export class SubscriptionBook {
  /** `<tenant>/<pipeline>` → its subscriptions, by index. */
  private readonly byPipeline = new Map<string, Subscription[]>();
  private readonly byTenant = new Map<string, Subscription[]>();
  private readonly defaultWindowMs: number;
  private readonly minWindowMs: number;

  constructor(private readonly options: SubscriptionBookOptions) {
    this.defaultWindowMs = options.defaultWindowMs ?? 60_000;
    this.minWindowMs = options.minWindowMs ?? 10_000;
  }

  /**
   * The subscriptions of `<tenant>/<name>` as `pipeline` (undefined: deleted) says. Returns
   * those that went away, stopped: their open windows and queue are dropped.
   */
  sync(tenant: string, name: string, pipeline: RegisteredPipeline | undefined): Subscription[] {
    const key = `${tenant}/${name}`;
    const held = this.byPipeline.get(key) ?? [];
    const targets = pipeline ? notificationTargets(pipeline.manifest) : [];
    const redact = pipeline && targets.length > 0 ? textRedactor(pipeline.manifest) : (text: string) => text;
    const next = targets.map((target) => {
      const windowMs = Math.max(this.minWindowMs, target.windowSeconds === undefined ? this.defaultWindowMs : target.windowSeconds * 1000);
      const config = { tenant, pipeline: name, target, windowMs, redact };
      const existing = held[target.index];
      if (existing) {
        existing.reconfigure(config);
        return existing;
      }
      return new Subscription(`${key}#${target.index}`, config, this.options.settings, this.options.hooks);
    });
    const removed = held.slice(next.length);
    for (const subscription of removed) subscription.stop();
    if (next.length > 0) this.byPipeline.set(key, next);
    else this.byPipeline.delete(key);
    this.byTenant.set(tenant, [...this.byPipeline].filter(([k]) => k.startsWith(`${tenant}/`)).flatMap(([, subs]) => subs));
    if (this.byTenant.get(tenant)?.length === 0) this.byTenant.delete(tenant);
    return removed;
  }

  /** Who receives a dead letter of `tenant` from `pipeline` (none: every subscription of the tenant). */
  route(tenant: string, pipeline: string | undefined): readonly Subscription[] {
    return pipeline === undefined ? (this.byTenant.get(tenant) ?? []) : (this.byPipeline.get(`${tenant}/${pipeline}`) ?? []);
  }

  ofTenant(tenant: string): readonly Subscription[] {
    return this.byTenant.get(tenant) ?? [];
  }

  all(): Subscription[] {
    return [...this.byPipeline.values()].flat();
  }

  /** Stops every subscription (the notifier stops). */
  stop(): void {
    for (const subscription of this.all()) subscription.stop();
  }
}
