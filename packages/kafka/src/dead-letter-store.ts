import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, IHeaders, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { tenantNames } from '@tributary/tenant';
import { DEAD_LETTER_CLASSES, DEAD_LETTER_HEADERS, headerText, readDeadLetter, type DeadLetterCause, type DeadLetterClass } from './dead-letter.js';

/** Headers a replayed record carries into `logs.<tenant>` (and, if it fails again, back into the dead letter). */
export const REPLAY_HEADERS = {
  /** The replay it came from (a UUID, one per replay run and its resumptions). */
  id: 'tributary.replay.id',
  /** How many times this record has been replayed. */
  count: 'tributary.replay.count',
  /** The dead letter it was replayed from: `dlq.<tenant>/<partition>/<offset>`. */
  from: 'tributary.replay.from',
} as const;

/** Which dead letters: by record time (ms, `until` inclusive), class and pipeline. */
export interface DeadLetterFilter {
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly class?: DeadLetterClass | undefined;
  readonly pipeline?: string | undefined;
  /** Only these dead letters, by coordinates in dlq.<tenant>: `<partition>/<offset>`. */
  readonly offsets?: ReadonlySet<string> | undefined;
}

/** A dead letter as the API shows it: coordinates, cause, headers, the value as text (cut). */
export interface StoredDeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** When it was dead-lettered (the record's timestamp). */
  readonly timestamp: string;
  readonly key: string | null;
  readonly cause: DeadLetterCause;
  readonly replayCount: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: string | null;
  readonly valueBytes: number;
  readonly truncated: boolean;
}

/** What a listing found so far: the matches with their times, per partition, and the records read. */
interface Tally {
  readonly found: Array<{ at: number; letter: StoredDeadLetter }>;
  readonly perPartition: Map<number, number>;
  scanned: number;
}

const newTally = (): Tally => ({ found: [], perPartition: new Map(), scanned: 0 });

/** A partition's offsets [from, to) to read. */
interface Range {
  readonly partition: number;
  from: bigint;
  readonly to: bigint;
}

export interface ListOptions {
  /** Most dead letters returned; default 100. */
  readonly limit?: number;
  /** Most records looked at (the filter runs on what is read); default 100 000. */
  readonly maxScan?: number;
  readonly timeoutMs?: number;
  /** `newest`: the latest `limit` (read from each partition's end back), newest first; default `oldest`. */
  readonly order?: 'oldest' | 'newest';
}

export interface ListResult {
  readonly deadLetters: StoredDeadLetter[];
  /** Records read to find them. */
  readonly scanned: number;
  /** False when more may match: the limit, the scan bound or the time ran out first. */
  readonly complete: boolean;
}

export interface ReplayOptions {
  readonly dryRun?: boolean;
  /** Records produced per second at most, so live traffic keeps flowing; default 500. */
  readonly ratePerSecond?: number;
  /** Records replayed by this call at most; the rest is left to `resume`; default 10 000. */
  readonly maxRecords?: number;
  /** A dead letter replayed this many times already is skipped (stops a loop); default 3. */
  readonly maxReplays?: number;
  /** Where an earlier call stopped (`ReplayResult.resume`): the same replay goes on. */
  readonly resume?: string | undefined;
  readonly signal?: AbortSignal;
}

export interface ReplayResult {
  readonly replayId: string;
  readonly matched: number;
  /** Produced to `logs.<tenant>` (0 in a dry run). */
  readonly replayed: number;
  /** Matched, but replayed `maxReplays` times already. */
  readonly skipped: number;
  /** Records read so far by this replay (this call). */
  readonly scanned: number;
  /** Records the whole replay reads (fixed at its first call), matching or not. */
  readonly total: number;
  /** Of those, records still to read: the progress is `(total - remaining) / total`. */
  readonly remaining: number;
  /** Set while there is more: pass it back to go on. */
  readonly resume?: string | undefined;
  readonly done: boolean;
}

export interface DeadLetterCounts {
  readonly since: string;
  /** Every dead letter since then (from the offsets). */
  readonly total: number;
  /** Pipeline (`""` for none) → class → count, of those read. */
  readonly byPipeline: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly scanned: number;
  /** Whether every one was read (else `byPipeline` counts the first `scanned`). */
  readonly complete: boolean;
}

export interface PurgeResult {
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly from: string; readonly to: string; readonly records: number }>;
  readonly records: number;
  readonly dryRun: boolean;
}

export interface DeadLetterStoreOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  /** Produces replays; idempotent, acks=all. */
  readonly producer: Producer;
  readonly logger: Logger;
  /** Characters of a value shown; default 4 096. */
  readonly valueChars?: number;
}

/**
 * Where a replay is: the offsets left to read, and what it was asked for at its first call
 * (the filter and how many records it had to read), so a resumed call replays exactly what
 * the first one would have, whatever filter comes with it.
 */
interface Cursor {
  readonly id: string;
  readonly ranges: ReadonlyArray<readonly [number, string, string]>;
  /** Absent in tokens from before it was carried: the call's own filter applies. */
  readonly filter?: CursorFilter;
  readonly total?: number;
}

interface CursorFilter {
  readonly since?: number;
  readonly until?: number;
  readonly class?: DeadLetterClass;
  readonly pipeline?: string;
  readonly offsets?: readonly string[];
}

/**
 * A tenant's dead letters as something to look at and act on: list (time → offsets, then
 * the filter), follow live, replay to `logs.<tenant>` byte for byte, purge (delete-records
 * up to a time). kafkajs has no manual assignment, so every read is a short-lived consumer
 * in a throwaway group that never commits (its join costs the broker's
 * `group.initial.rebalance.delay.ms`).
 */
export class DeadLetterStore {
  private readonly valueChars: number;

  constructor(private readonly options: DeadLetterStoreOptions) {
    this.valueChars = options.valueChars ?? 4096;
  }

  async list(tenant: string, filter: DeadLetterFilter, options: ListOptions = {}): Promise<ListResult> {
    const topic = tenantNames(tenant).deadLetterTopic;
    const limit = options.limit ?? 100;
    const maxScan = options.maxScan ?? 100_000;
    const ranges = await this.ranges(topic, filter);
    if (options.order === 'newest') return this.listNewest(topic, ranges, filter, limit, maxScan, options.timeoutMs);
    // Oldest first across partitions: take up to `limit` of each, then merge by time.
    const tally = newTally();
    const read = await this.read(topic, ranges, (partition, message) => {
      const inPartition = this.tallyRecord(tally, topic, filter, partition, message);
      if (tally.scanned >= maxScan) return 'stop';
      return inPartition >= limit ? 'done' : 'next';
    }, options.timeoutMs);
    const { found, perPartition, scanned } = tally;
    found.sort((a, b) => a.at - b.at || a.letter.partition - b.letter.partition);
    const complete = read.complete && found.length <= limit && [...perPartition.values()].every((n) => n < limit);
    return { deadLetters: found.slice(0, limit).map((f) => f.letter), scanned, complete };
  }

  /** Counts a record read, keeps it if it matches; the matches of its partition so far. */
  private tallyRecord(tally: Tally, topic: string, filter: DeadLetterFilter, partition: number, message: KafkaMessage): number {
    tally.scanned++;
    const letter = this.matching(topic, partition, message, filter);
    const inPartition = (tally.perPartition.get(partition) ?? 0) + (letter ? 1 : 0);
    if (letter) {
      tally.found.push({ at: Number(message.timestamp), letter });
      tally.perPartition.set(partition, inPartition);
    }
    return inPartition;
  }

  /**
   * The latest `limit` matching, newest first: each partition is read backwards in windows
   * (forward within one), until it has `limit` of its own or its range is done.
   */
  private async listNewest(topic: string, ranges: Range[], filter: DeadLetterFilter, limit: number, maxScan: number, timeoutMs?: number): Promise<ListResult> {
    const window = BigInt(Math.max(limit, 500));
    const tally = newTally();
    const { found, perPartition } = tally;
    let complete = true;
    let left = ranges.filter((r) => r.from < r.to).map((r) => ({ partition: r.partition, from: r.from, to: r.to }));
    const deadline = Date.now() + (timeoutMs ?? 30_000);
    while (left.length > 0) {
      if (tally.scanned >= maxScan || Date.now() >= deadline) {
        complete = false;
        break;
      }
      const windows = left.map((r) => ({ partition: r.partition, from: r.to - window > r.from ? r.to - window : r.from, to: r.to }));
      const starts = new Map(windows.map((w) => [w.partition, w.from]));
      const read = await this.read(topic, windows, (partition, message) => {
        this.tallyRecord(tally, topic, filter, partition, message);
        return tally.scanned >= maxScan ? 'stop' : 'next';
      }, Math.max(1, deadline - Date.now()));
      if (!read.complete) {
        complete = false;
        break;
      }
      const rest = left.map((r) => ({ ...r, to: starts.get(r.partition) ?? r.from })).filter((r) => r.from < r.to);
      left = rest.filter((r) => (perPartition.get(r.partition) ?? 0) < limit);
      // A partition with `limit` of its own and older records left: more may match.
      if (left.length < rest.length) complete = false;
    }
    found.sort((a, b) => b.at - a.at || b.letter.partition - a.letter.partition || Number(BigInt(b.letter.offset) - BigInt(a.letter.offset)));
    if (found.length > limit) complete = false;
    return { deadLetters: found.slice(0, limit).map((f) => f.letter), scanned: tally.scanned, complete };
  }

  /**
   * How many dead letters since `since`: the total from the offsets (exact), and per pipeline
   * and class from reading them (exact while `complete`; at most `maxScan` are read).
   */
  async count(tenant: string, since: number, options: { maxScan?: number; timeoutMs?: number } = {}): Promise<DeadLetterCounts> {
    const topic = tenantNames(tenant).deadLetterTopic;
    const ranges = await this.ranges(topic, { since });
    const total = recordsIn(ranges);
    const maxScan = options.maxScan ?? 200_000;
    const byPipeline: Record<string, Record<string, number>> = {};
    let scanned = 0;
    const read = await this.read(topic, ranges, (_partition, message) => {
      scanned++;
      const cause = readDeadLetter(message.headers);
      if (cause) {
        const classes = (byPipeline[cause.pipeline ?? ''] ??= {});
        classes[cause.class] = (classes[cause.class] ?? 0) + 1;
      }
      return scanned >= maxScan ? 'stop' : 'next';
    }, options.timeoutMs);
    return { since: new Date(since).toISOString(), total, byPipeline, scanned, complete: read.complete && scanned === total };
  }

  /**
   * Re-produces the matching dead letters' original key and value, byte for byte, to
   * `logs.<tenant>`, with their own headers (not the dead-letter ones) and the replay's: the
   * processor runs them through the pipeline now in force, and their ids make a second
   * replay store nothing twice. The offsets to read and the filter are fixed at the first
   * call (carried in `resume`), so what fails again during the replay is not replayed by it,
   * and a resumed call replays what the first one was asked for.
   */
  async replay(tenant: string, requested: DeadLetterFilter, options: ReplayOptions = {}): Promise<ReplayResult> {
    const names = tenantNames(tenant);
    const topic = names.deadLetterTopic;
    const cursor: Cursor = options.resume ? decodeCursor(options.resume) : await this.startReplay(topic, requested);
    const filter = cursor.filter ? filterOfCursor(cursor.filter) : requested;
    const ranges: Range[] = cursor.ranges.map(([partition, from, to]) => ({ partition, from: BigInt(from), to: BigInt(to) }));
    const total = cursor.total ?? recordsIn(ranges);
    const maxRecords = options.maxRecords ?? 10_000;
    const maxReplays = options.maxReplays ?? 3;
    const rate = options.ratePerSecond ?? 500;
    let matched = 0;
    let replayed = 0;
    let skipped = 0;
    let scanned = 0;
    let pending: Message[] = [];
    let pendingBytes = 0;
    const started = Date.now();
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      pendingBytes = 0;
      if (!options.dryRun) {
        await this.options.producer.send({ topic: names.logsTopic, acks: -1, messages: batch });
        replayed += batch.length;
        // The rate limit: no faster than `rate` records a second since the start.
        const ahead = (replayed / rate) * 1000 - (Date.now() - started);
        if (ahead > 0) await sleep(ahead, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
      }
    };
    const read = await this.read(
      topic,
      ranges,
      async (partition, message) => {
        if (matched >= maxRecords || options.signal?.aborted) return 'stop';
        scanned++;
        const cause = readDeadLetter(message.headers);
        if (cause && passes(cause, Number(message.timestamp), filter) && selected(filter, partition, message.offset)) {
          matched++;
          const count = replayCountOf(message.headers);
          if (count >= maxReplays) skipped++;
          else {
            pending.push(replayMessage(message, { id: cursor.id, count: count + 1, from: `${topic}/${partition}/${message.offset}` }));
            pendingBytes += message.value?.length ?? 0;
            if (pending.length >= 500 || pendingBytes >= 512 * 1024) await flush();
          }
        }
        return 'next';
      },
      undefined,
    );
    await flush();
    const left = ranges.filter((r) => r.from < r.to);
    const done = read.complete && left.length === 0;
    const remaining = done ? 0 : recordsIn(left);
    const resume = done ? undefined : encodeCursor({ ...cursor, ranges: left.map((r) => [r.partition, String(r.from), String(r.to)] as const), total });
    return { replayId: cursor.id, matched, replayed: options.dryRun ? 0 : replayed, skipped, scanned, total, remaining, resume, done };
  }

  private async startReplay(topic: string, filter: DeadLetterFilter): Promise<Cursor> {
    const ranges = await this.ranges(topic, filter);
    return { id: randomUUID(), ranges: ranges.map((r) => [r.partition, String(r.from), String(r.to)] as const), filter: cursorFilterOf(filter), total: recordsIn(ranges) };
  }

  /**
   * Advances the start of `dlq.<tenant>` (Kafka delete-records) to the first dead letter
   * after `until` in every partition; `dryRun` says what would go. Only a prefix of a
   * partition can go, so there is no filter by class or pipeline.
   */
  async purge(tenant: string, until: number, options: { dryRun?: boolean } = {}): Promise<PurgeResult> {
    const topic = tenantNames(tenant).deadLetterTopic;
    const { admin } = this.options;
    const [ends, cut] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchTopicOffsetsByTimestamp(topic, until + 1)]);
    const partitions = ends.map(({ partition, low, high }) => {
      const at = cut.find((c) => c.partition === partition)?.offset;
      // No record after `until`: everything goes (up to the end).
      const to = at === undefined || BigInt(at) < 0n ? BigInt(high) : BigInt(at);
      const from = BigInt(low);
      return { partition, from: String(from), to: String(to > from ? to : from), records: Number(to > from ? to - from : 0n) };
    });
    const doomed = partitions.filter((p) => p.records > 0);
    if (!options.dryRun && doomed.length > 0) {
      await admin.deleteTopicRecords({ topic, partitions: doomed.map((p) => ({ partition: p.partition, offset: p.to })) });
    }
    return { partitions: partitions.sort((a, b) => a.partition - b.partition), records: doomed.reduce((n, p) => n + p.records, 0), dryRun: options.dryRun ?? false };
  }

  /**
   * Calls `onDeadLetter` for every dead letter written from now on that passes the filter,
   * until `signal` aborts. Resolves once following (the consumer has joined).
   */
  async follow(tenant: string, filter: DeadLetterFilter, onDeadLetter: (letter: StoredDeadLetter) => void, signal: AbortSignal): Promise<void> {
    const topic = tenantNames(tenant).deadLetterTopic;
    const consumer = this.options.kafka.consumer({ groupId: `tributary-dlq-follow-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 250 });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    const stop = (): void => void consumer.disconnect().catch((err: unknown) => this.options.logger.warn({ err, topic }, 'following dead letters: disconnect failed'));
    signal.addEventListener('abort', stop, { once: true });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const letter = this.matching(topic, partition, message, filter);
          if (letter && !signal.aborted) onDeadLetter(letter);
        },
      });
      await Promise.race([joined, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    } catch (err) {
      stop();
      throw err;
    }
  }

  /** Per partition, the offsets of records in [since, until]: time → offsets. */
  private async ranges(topic: string, filter: DeadLetterFilter): Promise<Range[]> {
    const { admin } = this.options;
    const ends = await admin.fetchTopicOffsets(topic);
    const [starts, stops] = await Promise.all([
      filter.since === undefined ? undefined : admin.fetchTopicOffsetsByTimestamp(topic, filter.since),
      filter.until === undefined ? undefined : admin.fetchTopicOffsetsByTimestamp(topic, filter.until + 1),
    ]);
    return ends.map(({ partition, low, high }) => {
      const offsetIn = (entries: typeof starts, fallback: string): bigint => {
        const at = entries?.find((e) => e.partition === partition)?.offset;
        return at === undefined || BigInt(at) < 0n ? BigInt(fallback) : BigInt(at);
      };
      let from = offsetIn(starts, low);
      let to = offsetIn(stops, high);
      if (filter.offsets) {
        // A selection reads only from its first to its last record in each partition.
        const picked = [...filter.offsets].filter((id) => id.startsWith(`${partition}/`)).map((id) => BigInt(id.slice(id.indexOf('/') + 1)));
        if (picked.length === 0) to = from;
        else {
          const first = picked.reduce((a, b) => (b < a ? b : a));
          const last = picked.reduce((a, b) => (b > a ? b : a));
          if (first > from) from = first;
          if (last + 1n < to) to = last + 1n;
        }
      }
      return { partition, from: from < BigInt(low) ? BigInt(low) : from, to: to < from ? from : to };
    });
  }

  /**
   * Reads `ranges` of `topic` in order per partition; `visit` says go on (`next`), this
   * partition is done, or stop everything. Each range's `from` advances as records are read.
   */
  private async read(
    topic: string,
    ranges: Range[],
    visit: (partition: number, message: KafkaMessage) => 'next' | 'done' | 'stop' | Promise<'next' | 'done' | 'stop'>,
    timeoutMs = 30_000,
  ): Promise<{ complete: boolean }> {
    const open = new Map(ranges.filter((r) => r.from < r.to).map((r) => [r.partition, r]));
    if (open.size === 0) return { complete: true };
    const consumer = this.options.kafka.consumer({ groupId: `tributary-dlq-read-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 250 });
    let finish!: (complete: boolean) => void;
    const finished = new Promise<boolean>((resolve) => (finish = resolve));
    const timer = setTimeout(() => finish(false), timeoutMs);
    const close = (partition: number): void => {
      open.delete(partition);
      consumer.pause([{ topic, partitions: [partition] }]);
      if (open.size === 0) finish(true);
    };
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let stopped = false;
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          const range = open.get(batch.partition);
          if (!range || stopped) return;
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (offset < range.from) continue;
            if (offset >= range.to) break;
            const next = await visit(batch.partition, message);
            if (next === 'stop') {
              stopped = true;
              finish(false);
              return;
            }
            range.from = offset + 1n;
            if (next === 'done') break;
            await heartbeat();
          }
          if (range.from >= range.to || !open.has(batch.partition)) close(batch.partition);
          else if (batch.messages.length > 0 && BigInt(batch.lastOffset()) + 1n >= range.to) close(batch.partition);
        },
      });
      for (const range of open.values()) consumer.seek({ topic, partition: range.partition, offset: String(range.from) });
      return { complete: await finished };
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
    }
  }

  private matching(topic: string, partition: number, message: KafkaMessage, filter: DeadLetterFilter): StoredDeadLetter | undefined {
    const cause = readDeadLetter(message.headers);
    if (!cause || !passes(cause, Number(message.timestamp), filter)) return undefined;
    const text = message.value === null ? null : message.value.toString('utf8');
    const truncated = text !== null && text.length > this.valueChars;
    return {
      topic,
      partition,
      offset: message.offset,
      timestamp: new Date(Number(message.timestamp)).toISOString(),
      key: message.key === null ? null : message.key.toString('utf8'),
      cause,
      replayCount: replayCountOf(message.headers),
      headers: headersAsText(message.headers),
      value: text === null ? null : truncated ? `${text.slice(0, this.valueChars)}…` : text,
      valueBytes: message.value?.length ?? 0,
      truncated,
    };
  }
}

function passes(cause: DeadLetterCause, at: number, filter: DeadLetterFilter): boolean {
  if (filter.class !== undefined && cause.class !== filter.class) return false;
  if (filter.pipeline !== undefined && cause.pipeline !== filter.pipeline) return false;
  if (filter.since !== undefined && at < filter.since) return false;
  if (filter.until !== undefined && at > filter.until) return false;
  return true;
}

/** Whether the record at `partition`/`offset` is among the selected ones (all are, without a selection). */
function selected(filter: DeadLetterFilter, partition: number, offset: string): boolean {
  return filter.offsets === undefined || filter.offsets.has(`${partition}/${offset}`);
}

function replayCountOf(headers: IHeaders | undefined): number {
  const n = Number(headerText(headers, REPLAY_HEADERS.count) ?? '0');
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** The record to produce again: the original key, value and headers; the dead-letter headers replaced by the replay's. */
function replayMessage(message: KafkaMessage, replay: { id: string; count: number; from: string }): Message {
  const headers: IHeaders = {};
  const ours = new Set<string>([...Object.values(DEAD_LETTER_HEADERS), ...Object.values(REPLAY_HEADERS)]);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    // The first-failure time stays: it is the record's story, and the next dead letter keeps it.
    if (value !== undefined && (!ours.has(name) || name === DEAD_LETTER_HEADERS.firstFailure)) headers[name] = value;
  }
  headers[REPLAY_HEADERS.id] = replay.id;
  headers[REPLAY_HEADERS.count] = String(replay.count);
  headers[REPLAY_HEADERS.from] = replay.from;
  return { key: message.key, value: message.value, headers };
}

function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers ?? {})) {
    const text = headerText(headers, name);
    if (text !== undefined) out[name] = text.slice(0, 4096);
  }
  return out;
}

/** Records from each range's start to its end. */
function recordsIn(ranges: readonly Range[]): number {
  return ranges.reduce((n, r) => n + Number(r.to > r.from ? r.to - r.from : 0n), 0);
}

function cursorFilterOf(filter: DeadLetterFilter): CursorFilter {
  // What is undefined is left out of the token's JSON.
  return { ...filter, offsets: filter.offsets && [...filter.offsets] };
}

function filterOfCursor(filter: CursorFilter): DeadLetterFilter {
  return { ...filter, offsets: filter.offsets ? new Set(filter.offsets) : undefined };
}

/** A token's filter as the store wrote it: anything else makes the token invalid. */
function validCursorFilter(filter: unknown): boolean {
  if (filter === undefined) return true;
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) return false;
  const f = filter as Record<string, unknown>;
  return (
    (f['since'] === undefined || Number.isFinite(f['since'])) &&
    (f['until'] === undefined || Number.isFinite(f['until'])) &&
    (f['class'] === undefined || (DEAD_LETTER_CLASSES as readonly unknown[]).includes(f['class'])) &&
    (f['pipeline'] === undefined || typeof f['pipeline'] === 'string') &&
    (f['offsets'] === undefined || (Array.isArray(f['offsets']) && f['offsets'].every((o) => typeof o === 'string')))
  );
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** A resume token back: malformed ones throw `InvalidResumeError`. */
function decodeCursor(token: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
    const valid =
      typeof cursor.id === 'string' &&
      Array.isArray(cursor.ranges) &&
      cursor.ranges.every((r) => Array.isArray(r) && Number.isInteger(r[0]) && /^\d+$/.test(String(r[1])) && /^\d+$/.test(String(r[2]))) &&
      validCursorFilter(cursor.filter) &&
      (cursor.total === undefined || Number.isSafeInteger(cursor.total));
    if (valid) return cursor;
  } catch {
    // fall through
  }
  throw new InvalidResumeError();
}

/** A `resume` token that isn't one this store gave out. */
export class InvalidResumeError extends Error {
  constructor() {
    super('resume is not a token a replay returned');
    this.name = 'InvalidResumeError';
  }
}
