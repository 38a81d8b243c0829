import { createHash } from 'node:crypto';
import { envelopeMessage } from '@tributary/envelope';
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
  /** The window they were grouped over (clock-aligned, `from` inclusive, `to` exclusive). */
  readonly window: { readonly from: string; readonly to: string };
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
  /** The log line (the envelope's `message`) when the value is a JSON envelope, redacted and cut the same way. */
  readonly message?: string;
  readonly truncated: boolean;
}

export interface GroupingOptions {
  /**
   * How long a window lasts, ms; default 60 000. Windows are aligned to the clock (a window
   * of 60 s is one wall-clock minute) and a dead letter belongs to the window of its own
   * time, so the dead letters read again after a crash fall into the same windows as before
   * and their notifications carry the same idempotency keys.
   */
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
  /** Part of every idempotency key: two subscriptions' notifications of the same dead letters differ. */
  readonly subscription?: string;
}

interface Group {
  readonly first: DeadLetterEntry;
  /** The window: [start, start + windowMs). */
  readonly start: number;
  count: number;
  firstAt: number;
  lastAt: number;
  readonly samples: NotificationSample[];
  /** Per dlq partition, the lowest and highest offset. */
  readonly ranges: Map<number, { from: bigint; to: bigint }>;
}

/**
 * Groups dead letters by (tenant, pipeline, class, rule) over clock-aligned windows: one
 * notification per group per window however many there are, with the true count, first
 * and last time, a few redacted samples, where they are and the commands to inspect and
 * replay them. A storm of 100 000 in a minute is a handful of notifications. No timers of
 * its own: the caller adds entries and `close`s the windows that its input has passed.
 */
export class DeadLetterGroups {
  private readonly groups = new Map<string, Group>();
  readonly windowMs: number;
  private readonly maxSamples: number;
  private readonly sampleChars: number;
  /** Every window ending at or before this has been closed. */
  private closedThrough = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: GroupingOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxSamples = options.maxSamples ?? 3;
    this.sampleChars = options.sampleChars ?? 1000;
    for (const [name, value] of Object.entries({ windowMs: this.windowMs, maxSamples: this.maxSamples, sampleChars: this.sampleChars })) {
      if (!Number.isInteger(value) || value < (name === 'maxSamples' ? 0 : 1)) throw new RangeError(`DeadLetterGroups: ${name} must be a whole number ≥ ${name === 'maxSamples' ? 0 : 1}, got ${value}`);
    }
  }

  /**
   * Takes a dead letter into the window of its time (`entry.at`). One whose window was
   * closed already (it came later than the caller allowed for) joins the first open
   * window: counted late rather than not at all.
   */
  add(entry: DeadLetterEntry): void {
    const own = this.windowStart(entry.at);
    const start = own + this.windowMs <= this.closedThrough ? this.windowStart(this.closedThrough) : own;
    const key = `${groupKey(entry)}@${start}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { first: entry, start, count: 0, firstAt: entry.at, lastAt: entry.at, samples: [], ranges: new Map() };
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

  /**
   * The notifications of the windows that end at or before `watermark` (ms): the time up to
   * which the caller has read every dead letter. Oldest window first.
   */
  close(watermark: number): DeadLetterNotification[] {
    if (watermark > this.closedThrough) this.closedThrough = watermark;
    const closing: Group[] = [];
    for (const [key, group] of this.groups) {
      if (group.start + this.windowMs > watermark) continue;
      this.groups.delete(key);
      closing.push(group);
    }
    return closing.sort((a, b) => a.start - b.start).map((g) => this.notification(g));
  }

  /** Every open window's notification now (the subscription changed its window, or goes away). */
  flush(): DeadLetterNotification[] {
    return this.close(Number.POSITIVE_INFINITY);
  }

  /** When the earliest open window ends, ms; undefined with no window open. */
  nextEnd(): number | undefined {
    let next: number | undefined;
    for (const group of this.groups.values()) next = next === undefined ? group.start + this.windowMs : Math.min(next, group.start + this.windowMs);
    return next;
  }

  /** The lowest offset of `partition` in an open window: where reading must start again to rebuild them. */
  lowestOffset(partition: number): bigint | undefined {
    let lowest: bigint | undefined;
    for (const group of this.groups.values()) {
      const from = group.ranges.get(partition)?.from;
      if (from !== undefined && (lowest === undefined || from < lowest)) lowest = from;
    }
    return lowest;
  }

  /** Dead letters collected and not yet in a notification. */
  get pending(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.count;
    return count;
  }

  private windowStart(at: number): number {
    return Math.floor(at / this.windowMs) * this.windowMs;
  }

  private sample(entry: DeadLetterEntry): NotificationSample {
    if (entry.value === null) return { partition: entry.partition, offset: entry.offset, value: null, truncated: false };
    const raw = entry.value.toString('utf8');
    const cut = (text: string): string => (text.length > this.sampleChars ? `${text.slice(0, this.sampleChars)}…` : text);
    const text = this.redact(entry, raw);
    const line = envelopeMessage(raw);
    const message = line === undefined ? undefined : this.redact(entry, line);
    return { partition: entry.partition, offset: entry.offset, value: cut(text), ...(message === undefined ? {} : { message: cut(message) }), truncated: text.length > this.sampleChars };
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
    // The group and its window, not the dead letters in it: re-read after a crash (all of
    // them, or the part not committed yet) it is the same notification, the same key.
    const identity = JSON.stringify([this.options.subscription ?? '', tenant, cause.pipeline ?? null, cause.class, cause.rule ?? null, group.start, this.windowMs]);
    return {
      version: 1,
      idempotencyKey: createHash('sha256').update(identity).digest('base64url').slice(0, 32),
      tenant,
      pipeline: cause.pipeline ? { name: cause.pipeline, version: cause.version ?? null } : null,
      class: cause.class,
      rule: cause.rule ?? null,
      message: this.redact(group.first, cause.message),
      count: group.count,
      window: { from: new Date(group.start).toISOString(), to: new Date(group.start + this.windowMs).toISOString() },
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
