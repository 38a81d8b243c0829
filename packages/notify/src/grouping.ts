import { createHash } from 'node:crypto';
import type { DeadLetterCause, DeadLetterClass } from '@tributary/kafka';

/** One dead letter as read back from `dlq.<tenant>`. */
export interface DeadLetterEntry {
  readonly tenant: string;
  readonly cause: DeadLetterCause;
  /** Where it is in `dlq.<tenant>`. */
  readonly partition: number;
  readonly offset: string;
  /** When it was dead-lettered (the record's timestamp), ms since the epoch. */
  readonly at: number;
  /** The original record's value, byte for byte. */
  readonly value: Buffer | null;
}

/** What a subscriber receives: one group of dead letters over one window (webhook body, `version` 1). */
export interface DeadLetterNotification {
  readonly version: 1;
  /** The same for the same dead letters, so a receiver can drop a re-sent notification. */
  readonly idempotencyKey: string;
  readonly tenant: string;
  readonly pipeline: { readonly name: string; readonly version: number | null } | null;
  readonly class: DeadLetterClass;
  /** The step that failed (0-based over parse, filter, transform), when one did. */
  readonly rule: number | null;
  /** Why the first of them failed (redacted). */
  readonly message: string;
  /** Every dead letter of the group, not only the samples. */
  readonly count: number;
  readonly firstAt: string;
  readonly lastAt: string;
  readonly samples: ReadonlyArray<NotificationSample>;
  /** Where they are: per partition of `dlq.<tenant>`, the first and last offset. */
  readonly ranges: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly from: string; readonly to: string }>;
  /** The exact commands to look at them and to replay them after a fix. */
  readonly commands: { readonly show: string; readonly replay: string };
}

export interface NotificationSample {
  readonly partition: number;
  readonly offset: string;
  /** The record's value as text, redacted, cut to the sample size. */
  readonly value: string | null;
  readonly truncated: boolean;
}

export interface GroupingOptions {
  /** How long a group collects before its notification goes; default 60 000 ms. */
  readonly windowMs?: number;
  /** Samples per notification; default 3. */
  readonly maxSamples?: number;
  /** Characters of a sample's value; default 1 000. */
  readonly sampleChars?: number;
  /**
   * Applied to every text that leaves (samples and the error message): the tenant's
   * pipeline's redaction, so a secret in a broken line never leaves in an alert. The
   * whole value is redacted before it is cut, so no secret is cut in half and half shown.
   */
  readonly redact?: (entry: DeadLetterEntry, text: string) => string;
}

interface Group {
  readonly first: DeadLetterEntry;
  readonly dueAt: number;
  count: number;
  firstAt: number;
  lastAt: number;
  readonly samples: NotificationSample[];
  /** Per dlq partition, the lowest and highest offset. */
  readonly ranges: Map<number, { from: bigint; to: bigint }>;
}

/**
 * Groups dead letters by (tenant, pipeline, class, rule) over a window that opens with a
 * group's first dead letter: one notification per group per window however many there are,
 * with the true count, first and last time, a few redacted samples, where they are and the
 * commands to inspect and replay them. A storm of 100 000 in a minute is a handful of
 * notifications. No timers of its own: the caller adds entries and asks what is `due`.
 */
export class DeadLetterGroups {
  private readonly groups = new Map<string, Group>();
  private readonly windowMs: number;
  private readonly maxSamples: number;
  private readonly sampleChars: number;

  constructor(private readonly options: GroupingOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxSamples = options.maxSamples ?? 3;
    this.sampleChars = options.sampleChars ?? 1000;
    for (const [name, value] of Object.entries({ windowMs: this.windowMs, maxSamples: this.maxSamples, sampleChars: this.sampleChars })) {
      if (!Number.isInteger(value) || value < (name === 'maxSamples' ? 0 : 1)) throw new RangeError(`DeadLetterGroups: ${name} must be a whole number ≥ ${name === 'maxSamples' ? 0 : 1}, got ${value}`);
    }
  }

  /** Takes a dead letter read at `now` (ms). */
  add(entry: DeadLetterEntry, now: number): void {
    const key = groupKey(entry);
    let group = this.groups.get(key);
    if (!group) {
      group = { first: entry, dueAt: now + this.windowMs, count: 0, firstAt: entry.at, lastAt: entry.at, samples: [], ranges: new Map() };
      this.groups.set(key, group);
    }
    group.count++;
    group.firstAt = Math.min(group.firstAt, entry.at);
    group.lastAt = Math.max(group.lastAt, entry.at);
    const offset = BigInt(entry.offset);
    const range = group.ranges.get(entry.partition);
    if (!range) group.ranges.set(entry.partition, { from: offset, to: offset });
    else {
      if (offset < range.from) range.from = offset;
      if (offset > range.to) range.to = offset;
    }
    if (group.samples.length < this.maxSamples) group.samples.push(this.sample(entry));
  }

  /** The notifications of the groups whose window has ended by `now`; those groups start over. */
  due(now: number): DeadLetterNotification[] {
    const out: DeadLetterNotification[] = [];
    for (const [key, group] of this.groups) {
      if (group.dueAt > now) continue;
      this.groups.delete(key);
      out.push(this.notification(group));
    }
    return out;
  }

  /** Every group's notification now, due or not (stopping: what was collected goes). */
  flush(): DeadLetterNotification[] {
    return this.due(Number.POSITIVE_INFINITY);
  }

  /** When the next window ends, ms; undefined with no group open. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const group of this.groups.values()) next = next === undefined ? group.dueAt : Math.min(next, group.dueAt);
    return next;
  }

  /** Dead letters collected and not yet in a notification. */
  get pending(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.count;
    return count;
  }

  private sample(entry: DeadLetterEntry): NotificationSample {
    if (entry.value === null) return { partition: entry.partition, offset: entry.offset, value: null, truncated: false };
    const text = this.redact(entry, entry.value.toString('utf8'));
    const truncated = text.length > this.sampleChars;
    return { partition: entry.partition, offset: entry.offset, value: truncated ? `${text.slice(0, this.sampleChars)}…` : text, truncated };
  }

  private redact(entry: DeadLetterEntry, text: string): string {
    return this.options.redact ? this.options.redact(entry, text) : text;
  }

  private notification(group: Group): DeadLetterNotification {
    const { tenant, cause } = group.first;
    const topic = `dlq.${tenant}`;
    const ranges = [...group.ranges].sort((a, b) => a[0] - b[0]).map(([partition, r]) => ({ topic, partition, from: String(r.from), to: String(r.to) }));
    const firstAt = new Date(group.firstAt).toISOString();
    const lastAt = new Date(group.lastAt).toISOString();
    const scope = [`--tenant ${tenant}`, ...(cause.pipeline ? [`--pipeline ${cause.pipeline}`] : []), `--class ${cause.class}`, `--since ${firstAt}`, `--until ${lastAt}`].join(' ');
    const identity = JSON.stringify([tenant, cause.pipeline ?? null, cause.class, cause.rule ?? null, ranges.map((r) => [r.partition, r.from, r.to])]);
    return {
      version: 1,
      idempotencyKey: createHash('sha256').update(identity).digest('base64url').slice(0, 32),
      tenant,
      pipeline: cause.pipeline ? { name: cause.pipeline, version: cause.version ?? null } : null,
      class: cause.class,
      rule: cause.rule ?? null,
      message: this.redact(group.first, cause.message),
      count: group.count,
      firstAt,
      lastAt,
      samples: group.samples,
      ranges,
      commands: { show: `tributary dlq show ${scope}`, replay: `tributary dlq replay ${scope}` },
    };
  }
}

function groupKey(entry: DeadLetterEntry): string {
  const { cause } = entry;
  return JSON.stringify([entry.tenant, cause.pipeline ?? null, cause.class, cause.rule ?? null]);
}
