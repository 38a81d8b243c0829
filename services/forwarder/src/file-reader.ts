import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';

/** One complete line of a file (without its `\n`) and the offset of its first byte. */
export interface FileLine {
  readonly offset: number;
  readonly bytes: Buffer;
}

/**
 * Complete lines read into one block, without an object per line: line `k` is
 * `data[bounds[k], bounds[k + 1] - 1)` (its `\n` left out), at file offset `offset + bounds[k]`.
 */
export interface LineRun {
  readonly data: Buffer;
  /** The file offset of `data[0]`. */
  readonly offset: number;
  /** Where each line starts, then where the one after the last would: one more than the lines. */
  readonly bounds: number[];
}

export interface ReadResult {
  /** The complete lines read, block by block. */
  readonly runs: LineRun[];
  /** The same lines one by one, as views (made when asked for). */
  readonly lines: FileLine[];
  /** Nothing more to read now (the writer may still append). */
  readonly atEnd: boolean;
  /** The file shrank below what was read (copytruncate): reading starts again at 0, from the next read on. */
  readonly truncated: boolean;
}

class LinesRead implements ReadResult {
  constructor(
    readonly runs: LineRun[],
    readonly atEnd: boolean,
    readonly truncated: boolean,
  ) {}

  get lines(): FileLine[] {
    const lines: FileLine[] = [];
    for (const { data, offset, bounds } of this.runs) {
      for (let k = 0; k + 1 < bounds.length; k++) lines.push({ offset: offset + (bounds[k] as number), bytes: data.subarray(bounds[k], (bounds[k + 1] as number) - 1) });
    }
    return lines;
  }
}

/** The content a file had before it was last truncated in place: its fingerprint, and how far it had been read. */
export interface Truncation {
  readonly fingerprint: string;
  readonly offset: number;
}

/** How a file is known across renames: device, inode and (once it has one) its first line's fingerprint. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly fingerprint: string;
}

/**
 * Blocks that reads land in, used again from one read to the next instead of allocated per
 * read: off the heap, each new block counted as external memory, and that pressure made
 * collections. One instance for every reader of a forwarder (the files are read one at a
 * time; a set per reader would hold a MiB for each of a node's files). With it, the lines a
 * read returns are valid only until the next read of any reader sharing it: the caller
 * turns them into records (or copies what it keeps) before reading on.
 */
export class ReadBuffers {
  private readonly blocks: Buffer[] = [];

  /** The `index`th block of a read, at least `size` bytes. */
  block(index: number, size: number): Buffer {
    const kept = this.blocks[index];
    if (kept && kept.length >= size) return kept;
    const block = Buffer.allocUnsafeSlow(size);
    // An unfinished line carried over can make a block far larger: that one isn't kept.
    if (size <= KEPT_BLOCK_BYTES) this.blocks[index] = block;
    return block;
  }
}

const KEPT_BLOCK_BYTES = 1024 * 1024;

/** The longest first line the fingerprint hashes, bytes. */
const FINGERPRINT_BYTES = 4096;

/**
 * Reads one log file from an offset, line by line, through an open handle: a file renamed
 * away (rotation) keeps being read to its end through the same handle, and a file
 * truncated in place (copytruncate) is noticed because it is shorter than the read offset.
 * A last line without its `\n` yet is held back until the writer finishes it.
 */
export class FileReader {
  private handle: FileHandle | undefined;
  private position: number;
  /** Bytes read after the last `\n`: the start of a line still being written. */
  private carry = Buffer.alloc(0);
  private identity: FileIdentity | undefined;
  private truncation: Truncation | undefined;

  constructor(
    readonly path: string,
    offset = 0,
    private readonly chunkBytes = 256 * 1024,
    /** Where reads land; without, each read allocates its blocks (and its lines stay valid). */
    private readonly buffers?: ReadBuffers,
  ) {
    this.position = offset;
  }

  /**
   * What the file held before it was last truncated in place (copytruncate), when it was:
   * the copy logrotate made of it has that fingerprint, and is read from that offset on.
   */
  get lastTruncation(): Truncation | undefined {
    return this.truncation;
  }

  set lastTruncation(truncation: Truncation | undefined) {
    this.truncation = truncation;
  }

  /** The offset of the first byte not yet returned in a complete line: what a position may hold. */
  get offset(): number {
    return this.position - this.carry.length;
  }

  async open(): Promise<FileIdentity> {
    this.handle = await open(this.path, 'r');
    const stats = await this.handle.stat();
    this.identity = { dev: stats.dev, ino: stats.ino, fingerprint: await this.fingerprint() };
    return this.identity;
  }

  /** Device, inode and first-line fingerprint (empty while the first line is unfinished). */
  async fileIdentity(): Promise<FileIdentity> {
    if (!this.identity) return this.open();
    if (this.identity.fingerprint === '') this.identity = { ...this.identity, fingerprint: await this.fingerprint() };
    return this.identity;
  }

  /** True when the path now names another file than the one being read (renamed away, or deleted). */
  async replaced(): Promise<boolean> {
    const identity = await this.fileIdentity();
    try {
      const now = await stat(this.path);
      return now.ino !== identity.ino || now.dev !== identity.dev;
    } catch {
      return true;
    }
  }

  /** Reads up to `maxBytes` more and returns the complete lines in them. */
  async read(maxBytes = this.chunkBytes * 4): Promise<ReadResult> {
    const handle = this.handle ?? (await this.open(), this.handle as unknown as FileHandle);
    let truncated = false;
    const { size } = await handle.stat();
    if (size < this.position) {
      // Copied and truncated in place: everything from 0 is new. Nothing of it is read now:
      // the copy's unread end comes first, and the caller looks for the copy before reading on.
      this.truncation = { fingerprint: (await this.fileIdentity()).fingerprint, offset: this.offset };
      this.position = 0;
      this.carry = Buffer.alloc(0);
      this.identity = { ...(this.identity as FileIdentity), fingerprint: '' };
      truncated = true;
      return new LinesRead([], false, truncated);
    }
    const runs: LineRun[] = [];
    let budget = maxBytes;
    let atEnd = false;
    for (let index = 0; budget > 0; index++) {
      // The unfinished line carried over goes first in the block, and the read lands after it:
      // no copy of the whole block to join them.
      const carried = this.carry.length;
      const size = carried + Math.min(this.chunkBytes, budget);
      const buffer = this.buffers ? this.buffers.block(index, size).subarray(0, size) : Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried, this.position);
      if (bytesRead === 0) {
        atEnd = true;
        break;
      }
      this.carry.copy(buffer, 0);
      budget -= bytesRead;
      const data = buffer.subarray(0, carried + bytesRead);
      const dataStart = this.position - carried;
      this.position += bytesRead;
      // Bounds, not copies: each read allocates its own block, which the lines share until
      // they are encoded (a pass's lines are encoded and dropped before the next read).
      const bounds = [0];
      let start = 0;
      for (let newline = data.indexOf(0x0a); newline >= 0; newline = data.indexOf(0x0a, start)) {
        start = newline + 1;
        bounds.push(start);
      }
      if (bounds.length > 1) runs.push({ data, offset: dataStart, bounds });
      this.carry = Buffer.from(data.subarray(start));
    }
    return new LinesRead(runs, atEnd, truncated);
  }

  /** When the open file was last written, ms since the epoch; undefined before `open()`. */
  async modifiedAt(): Promise<number | undefined> {
    return (await this.handle?.stat())?.mtimeMs;
  }

  /** The open file's size now, bytes; undefined before `open()`. */
  async size(): Promise<number | undefined> {
    return (await this.handle?.stat())?.size;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }

  private async fingerprint(): Promise<string> {
    const handle = this.handle as FileHandle;
    const buffer = Buffer.alloc(FINGERPRINT_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const newline = buffer.subarray(0, bytesRead).indexOf(0x0a);
    // Until the first line is whole its hash would change as it grows.
    if (newline < 0 && bytesRead < FINGERPRINT_BYTES) return '';
    return createHash('sha256').update(buffer.subarray(0, newline < 0 ? bytesRead : newline)).digest('hex').slice(0, 16);
  }
}
