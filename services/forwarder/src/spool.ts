import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** One record as Kafka will get it. */
export interface SpoolRecord {
  /** UTF-8 (read back as a string). */
  readonly key: string | Buffer;
  readonly value: Buffer;
}

/** Where the next read of a topic's spool starts; handed back to `commit()` once Kafka has what `peek()` returned. */
export interface SpoolCursor {
  readonly segment: number;
  readonly offset: number;
}

export interface SpoolPeek {
  readonly records: SpoolRecord[];
  /** Bytes of the frames read (what `commit` frees). */
  readonly bytes: number;
  readonly next: SpoolCursor;
  /** When the first of them was spooled, ms since the epoch. */
  readonly oldestAt: number | undefined;
}

export interface SpoolOptions {
  /** `<stateDir>/spool`: one directory per topic. */
  readonly dir: string;
  /** Bytes on disk for every topic together; at the limit, `hasRoom` says no. */
  readonly maxBytes: number;
  /** Bytes one topic (one tenant) may take, so one tenant's missing topic can't fill it for all; default maxBytes. */
  readonly maxBytesPerTopic?: number;
  /** A segment file is closed at this size and a new one begun; default 8 MiB. */
  readonly segmentBytes?: number;
}

/** What `open()` found wrong and repaired: a torn last frame (a crash mid-append) cut off, bytes that failed their checksum skipped. */
export interface SpoolRecovery {
  readonly topic: string;
  readonly segment: number;
  readonly reason: string;
  readonly bytes: number;
}

// Frame: u32 length of the body, u32 CRC-32 of the body, body = f64 spooled-at ms, u32 key length, key, value.
const FRAME_HEADER = 8;
const BODY_HEADER = 12;

interface Segment {
  readonly seq: number;
  /** Bytes known written and synced: a reader never goes past it. */
  size: number;
}

interface TopicSpool {
  readonly topic: string;
  readonly dir: string;
  readonly segments: Segment[];
  head: SpoolCursor;
  /** Unread bytes: the segments' sizes from the head on. */
  bytes: number;
  /** The segment being appended to: open while it is the last one. */
  writer: FileHandle | undefined;
  /** Serialises appends, commits and reads of this topic. */
  lock: Promise<unknown>;
}

/**
 * The forwarder's on-disk spool: per topic, a FIFO of records in segment files under
 * `<dir>/<topic>/`, each append fsynced before it returns, so the position of the file the
 * records came from may advance at once. `peek()` reads from the head, `commit()` moves the
 * head (persisted in `<topic>/head`) once Kafka acknowledged, and deletes the segments it
 * passed. After a crash `open()` finds every record appended and not committed; a commit
 * lost in the crash only means records sent again with their ids (stored once).
 * Bounded: `hasRoom()` says when the forwarder must stop reading files instead.
 */
export class Spool {
  private readonly topics = new Map<string, TopicSpool>();
  private total = 0;
  private readonly segmentBytes: number;
  private readonly maxBytesPerTopic: number;

  constructor(private readonly options: SpoolOptions) {
    this.segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
    this.maxBytesPerTopic = options.maxBytesPerTopic ?? options.maxBytes;
  }

  /** Unread bytes of every topic together. */
  get bytes(): number {
    return this.total;
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Topics with records spooled. */
  spooledTopics(): string[] {
    return [...this.topics.values()].filter((t) => t.bytes > 0).map((t) => t.topic);
  }

  bytesOf(topic: string): number {
    return this.topics.get(topic)?.bytes ?? 0;
  }

  isEmpty(topic: string): boolean {
    return this.bytesOf(topic) === 0;
  }

  /**
   * Whether `bytes` more of `topic` fit. A topic with nothing spooled always gets room for
   * one append, whatever its size: a limit smaller than one read must slow reading, not stop it.
   */
  hasRoom(topic: string, bytes = 0): boolean {
    const mine = this.bytesOf(topic);
    if (mine === 0) return true;
    return this.total + bytes < this.options.maxBytes && mine + bytes < this.maxBytesPerTopic;
  }

  /** Loads what a previous run left: heads, segments, and repairs a torn last frame. */
  async open(): Promise<SpoolRecovery[]> {
    await mkdir(this.options.dir, { recursive: true });
    const recoveries: SpoolRecovery[] = [];
    for (const topic of (await readdir(this.options.dir)).sort()) {
      const dir = join(this.options.dir, topic);
      if (!(await stat(dir)).isDirectory()) continue;
      const state = await this.load(topic, dir, recoveries);
      if (state.segments.length === 0) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      this.topics.set(topic, state);
      this.total += state.bytes;
    }
    return recoveries;
  }

  /** Appends records to `topic`'s spool; resolves once they are on disk (fsync). */
  append(topic: string, records: readonly SpoolRecord[]): Promise<void> {
    const spool = this.topic(topic);
    return this.locked(spool, async () => {
      if (records.length === 0) return;
      const now = Date.now();
      const frames = Buffer.concat(records.map((record) => frame(record, now)));
      let last = spool.segments.at(-1);
      if (!last || last.size >= this.segmentBytes) {
        await spool.writer?.close();
        spool.writer = undefined;
        last = { seq: last ? last.seq + 1 : spool.head.segment, size: 0 };
        if (spool.segments.length === 0) spool.head = { segment: last.seq, offset: 0 };
        await mkdir(spool.dir, { recursive: true });
        spool.segments.push(last);
      }
      spool.writer ??= await open(segmentPath(spool.dir, last.seq), 'a');
      await spool.writer.write(frames);
      await spool.writer.datasync();
      last.size += frames.length;
      spool.bytes += frames.length;
      this.total += frames.length;
    });
  }

  /** Up to `maxBytes` and `maxRecords` (at least one record) from the head of `topic`'s spool, without consuming them. */
  peek(topic: string, maxBytes: number, maxRecords = Number.POSITIVE_INFINITY): Promise<SpoolPeek> {
    const spool = this.topics.get(topic);
    if (!spool) return Promise.resolve({ records: [], bytes: 0, next: { segment: 0, offset: 0 }, oldestAt: undefined });
    return this.locked(spool, async () => {
      const records: SpoolRecord[] = [];
      let oldestAt: number | undefined;
      let bytes = 0;
      let cursor = spool.head;
      for (const segment of spool.segments) {
        if (segment.seq < cursor.segment) continue;
        if (bytes >= maxBytes || records.length >= maxRecords) break;
        const from = segment.seq === cursor.segment ? cursor.offset : 0;
        const want = Math.min(segment.size - from, Math.max(maxBytes - bytes, 0));
        const chunk = await readRange(segmentPath(spool.dir, segment.seq), from, segment.size - from, want);
        const parsed = parseFrames(chunk, from, maxRecords - records.length);
        for (const record of parsed.records) {
          oldestAt ??= record.at;
          records.push({ key: record.key, value: record.value });
        }
        bytes += parsed.end - from;
        cursor = { segment: segment.seq, offset: parsed.end };
        if (parsed.corrupt) {
          // Past a frame that fails its checksum nothing in this segment can be trusted to be
          // framed right: the rest of it is skipped (and reported by the caller as lost).
          bytes += segment.size - parsed.end;
          cursor = { segment: segment.seq, offset: segment.size };
          throw new SpoolCorruptError(topic, segment.seq, parsed.end, segment.size - parsed.end, { records, bytes, next: cursor, oldestAt });
        }
        if (parsed.end < segment.size) break; // the budget ran out inside this segment
      }
      return { records, bytes, next: cursor, oldestAt };
    });
  }

  /** Consumes `topic`'s spool up to `cursor` (from a `peek`): persists the head, deletes segments passed. */
  commit(topic: string, cursor: SpoolCursor): Promise<void> {
    const spool = this.topics.get(topic);
    if (!spool) return Promise.resolve();
    return this.locked(spool, async () => {
      let freed = 0;
      while (spool.segments.length > 0) {
        const first = spool.segments[0] as Segment;
        const done = first.seq < cursor.segment || (first.seq === cursor.segment && cursor.offset >= first.size);
        const from = first.seq === spool.head.segment ? spool.head.offset : 0;
        if (!done) {
          if (first.seq === cursor.segment) freed += cursor.offset - from;
          break;
        }
        freed += first.size - from;
        if (spool.segments.length === 1) {
          await spool.writer?.close();
          spool.writer = undefined;
        }
        await rm(segmentPath(spool.dir, first.seq), { force: true });
        spool.segments.shift();
      }
      const next = spool.segments[0];
      spool.head = next ? (next.seq === cursor.segment ? cursor : { segment: next.seq, offset: 0 }) : { segment: cursor.segment + 1, offset: 0 };
      spool.bytes -= freed;
      this.total -= freed;
      if (spool.segments.length === 0) {
        // Drained: nothing of the topic is left on disk, so a restart has nothing to recover.
        await rm(join(spool.dir, 'head'), { force: true });
        await rm(spool.dir, { recursive: true, force: true });
      } else {
        await writeAtomically(join(spool.dir, 'head'), JSON.stringify(spool.head));
      }
    });
  }

  async close(): Promise<void> {
    for (const spool of this.topics.values()) {
      await spool.lock.catch(() => undefined);
      await spool.writer?.close();
      spool.writer = undefined;
    }
  }

  private topic(topic: string): TopicSpool {
    let spool = this.topics.get(topic);
    if (!spool) {
      spool = { topic, dir: join(this.options.dir, topic), segments: [], head: { segment: 0, offset: 0 }, bytes: 0, writer: undefined, lock: Promise.resolve() };
      this.topics.set(topic, spool);
    }
    return spool;
  }

  private locked<T>(spool: TopicSpool, work: () => Promise<T>): Promise<T> {
    const run = spool.lock.then(work, work);
    spool.lock = run.catch(() => undefined);
    return run;
  }

  private async load(topic: string, dir: string, recoveries: SpoolRecovery[]): Promise<TopicSpool> {
    let head: SpoolCursor = { segment: 0, offset: 0 };
    try {
      const saved = JSON.parse(await readFile(join(dir, 'head'), 'utf8')) as Partial<SpoolCursor>;
      if (Number.isSafeInteger(saved.segment) && Number.isSafeInteger(saved.offset)) head = { segment: saved.segment as number, offset: saved.offset as number };
    } catch {
      // No head yet (nothing was ever committed) or a damaged one: start at the first segment; at worst records go again, with their ids.
    }
    const segments: Segment[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const match = /^(\d{16})\.seg$/.exec(name);
      if (!match) continue;
      const seq = Number(match[1]);
      if (seq < head.segment) {
        await rm(join(dir, name), { force: true }); // committed before a crash that came before its removal
        continue;
      }
      segments.push({ seq, size: (await stat(join(dir, name))).size });
    }
    if (segments.length > 0 && (segments[0] as Segment).seq > head.segment) head = { segment: (segments[0] as Segment).seq, offset: 0 };
    const last = segments.at(-1);
    if (last) {
      // Only the last segment can end in a torn frame: the earlier ones were complete when the next began.
      const path = segmentPath(dir, last.seq);
      const bytes = await readFile(path);
      const parsed = parseFrames(bytes, 0);
      if (parsed.end < bytes.length) {
        recoveries.push({ topic, segment: last.seq, reason: parsed.corrupt ? 'a frame failed its checksum' : 'a torn frame at its end (a crash during an append)', bytes: bytes.length - parsed.end });
        const file = await open(path, 'r+');
        try {
          await file.truncate(parsed.end);
          await file.sync();
        } finally {
          await file.close();
        }
        last.size = parsed.end;
      }
    }
    const first = segments[0];
    if (first && head.offset > first.size) head = { segment: first.seq, offset: 0 };
    const live = segments.filter((s) => s.size > 0 || s === last);
    let bytes = 0;
    for (const segment of live) bytes += segment.size - (segment.seq === head.segment ? head.offset : 0);
    if (bytes === 0) {
      for (const segment of live) await rm(segmentPath(dir, segment.seq), { force: true });
      return { topic, dir, segments: [], head: { segment: (last?.seq ?? head.segment) + 1, offset: 0 }, bytes: 0, writer: undefined, lock: Promise.resolve() };
    }
    return { topic, dir, segments: live, head, bytes, writer: undefined, lock: Promise.resolve() };
  }
}

/** Bytes of a topic's spool failed their checksum: the records before them, and how much was skipped. */
export class SpoolCorruptError extends Error {
  readonly code = 'TRIBUTARY_SPOOL_CORRUPT';
  constructor(
    readonly topic: string,
    readonly segment: number,
    readonly offset: number,
    readonly skippedBytes: number,
    /** What was read before the damage, and a cursor past it: send these, then commit. */
    readonly peeked: SpoolPeek,
  ) {
    super(`spool of ${topic}: segment ${segment} fails its checksum at byte ${offset}; ${skippedBytes} bytes after it skipped`);
    this.name = 'SpoolCorruptError';
  }
}

function segmentPath(dir: string, seq: number): string {
  return join(dir, `${String(seq).padStart(16, '0')}.seg`);
}

function frame(record: SpoolRecord, at: number): Buffer {
  const key = typeof record.key === 'string' ? Buffer.from(record.key) : record.key;
  const bodyLength = BODY_HEADER + key.length + record.value.length;
  const out = Buffer.allocUnsafe(FRAME_HEADER + bodyLength);
  out.writeUInt32BE(bodyLength, 0);
  out.writeDoubleBE(at, FRAME_HEADER);
  out.writeUInt32BE(key.length, FRAME_HEADER + 8);
  key.copy(out, FRAME_HEADER + BODY_HEADER);
  record.value.copy(out, FRAME_HEADER + BODY_HEADER + key.length);
  out.writeUInt32BE(crc32(out.subarray(FRAME_HEADER)), 4);
  return out;
}

/**
 * The whole, checksummed frames at the start of `bytes` (read from file offset `base`).
 * `end` is the file offset after the last good one; `corrupt` when a whole frame failed its
 * checksum (a frame cut short by the end of `bytes` is just not read yet, or torn).
 */
function parseFrames(bytes: Buffer, base: number, maxRecords = Number.POSITIVE_INFINITY): { records: Array<SpoolRecord & { at: number }>; end: number; corrupt: boolean } {
  const records: Array<SpoolRecord & { at: number }> = [];
  let at = 0;
  while (at + FRAME_HEADER <= bytes.length && records.length < maxRecords) {
    const bodyLength = bytes.readUInt32BE(at);
    if (at + FRAME_HEADER + bodyLength > bytes.length) break;
    const body = bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + bodyLength);
    const keyLength = bodyLength >= BODY_HEADER ? body.readUInt32BE(8) : -1;
    if (crc32(body) !== bytes.readUInt32BE(at + 4) || keyLength < 0 || BODY_HEADER + keyLength > bodyLength) {
      return { records, end: base + at, corrupt: true };
    }
    records.push({
      at: body.readDoubleBE(0),
      key: body.toString('utf8', BODY_HEADER, BODY_HEADER + keyLength),
      // A copy: the chunk read is dropped, and kafkajs may hold the value for a while.
      value: Buffer.from(body.subarray(BODY_HEADER + keyLength)),
    });
    at += FRAME_HEADER + bodyLength;
  }
  return { records, end: base + at, corrupt: false };
}

/**
 * Reads `want` bytes at `from` — or, when the first frame there is longer, that frame whole
 * (a record bigger than the read budget must still go out).
 */
async function readRange(path: string, from: number, available: number, want: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    let length = Math.min(available, Math.max(want, FRAME_HEADER));
    let buffer = Buffer.allocUnsafe(length);
    let { bytesRead } = await file.read(buffer, 0, length, from);
    if (bytesRead >= FRAME_HEADER) {
      const first = FRAME_HEADER + buffer.readUInt32BE(0);
      if (first > length && first <= available) {
        length = first;
        buffer = Buffer.allocUnsafe(length);
        ({ bytesRead } = await file.read(buffer, 0, length, from));
      }
    }
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

async function writeAtomically(path: string, body: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(body);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}
