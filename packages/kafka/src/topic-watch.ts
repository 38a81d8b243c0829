import type { Admin } from 'kafkajs';

export interface TenantTopicWatchOptions {
  readonly admin: Admin;
  /** `logs` (the processor) or `dlq` (the notifier): `<kind>.<tenant>` topics are watched. */
  readonly kind: 'logs' | 'dlq';
  /** Only these tenants' topics; default every tenant's. */
  readonly tenants?: readonly string[] | undefined;
  /** How often the topics are listed; default 10 000 ms. */
  readonly intervalMs?: number | undefined;
  /** The new sorted list, when it differs from the last one: one call at a time, never during `stop()`'s wait. */
  readonly onChange: (topics: string[]) => Promise<void>;
  readonly onError: (err: unknown) => void;
}

const TENANT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

/**
 * Which tenant topics exist, followed: kafkajs resolves a subscription once, so a member that
 * must pick up new tenants without a restart lists the topics every interval and subscribes
 * again when the list changed. The processor follows `logs.<tenant>`, the notifier
 * `dlq.<tenant>`: one discovery for both.
 */
export class TenantTopicWatch {
  private readonly pattern: RegExp;
  private last = '';
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private running = false;

  constructor(private readonly options: TenantTopicWatchOptions) {
    this.pattern = new RegExp(`^${options.kind}\\.${TENANT}$`);
  }

  /** Lists the topics once (no `onChange` for them) and checks every interval from then on. */
  async start(): Promise<string[]> {
    const topics = await this.list();
    this.last = topics.join();
    this.running = true;
    this.timer = setInterval(() => {
      this.checking = this.checking.then(() => this.check()).catch((err: unknown) => this.options.onError(err));
    }, this.options.intervalMs ?? 10_000);
    this.timer.unref();
    return topics;
  }

  /** Forgets the last list: the next check calls `onChange` whatever it finds (after a subscription failed). */
  reset(): void {
    this.last = '\u0000';
  }

  /** No more checks; waits for one that is running. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.checking.catch(() => undefined);
  }

  private async list(): Promise<string[]> {
    const wanted = this.options.tenants ? new Set(this.options.tenants.map((t) => `${this.options.kind}.${t}`)) : undefined;
    return (await this.options.admin.listTopics()).filter((t) => this.pattern.test(t) && (!wanted || wanted.has(t))).sort();
  }

  private async check(): Promise<void> {
    if (!this.running) return;
    const topics = await this.list();
    if (!this.running || topics.join() === this.last) return;
    this.last = topics.join();
    await this.options.onChange(topics);
  }
}
