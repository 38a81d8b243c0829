import type { LogChunk } from './line.js';
import type { Stream } from './types.js';
import { decodeLogBytes, utf8Boundary } from './utf8.js';

/** A whole log line (or one piece of an oversized one), ready to become an envelope. */
export interface AssembledLine {
  readonly stream: Stream;
  /** The runtime's time of the line's first chunk. */
  readonly time: string;
  /** The line's text; bytes that aren't UTF-8 appear as `\xNN` (see `decodeLogBytes`). */
  readonly message: string;
  /** File offset of the line's first byte: with `part`, what makes its id. */
  readonly offset: number;
  /** 0 for a line that fits; for an oversized line split into pieces, 0, 1, 2… */
  readonly part: number;
  /** This piece ends the line (always true for a line that fits). */
  readonly last: boolean;
  /** How many chunks were joined (1: the runtime didn't split it). */
  readonly chunks: number;
  /** The file ended (deleted, or drained at shutdown) before the runtime finished the line. */
  readonly incomplete: boolean;
  readonly invalidBytes: number;
}

export interface AssemblerOptions {
  /** Longest line kept whole, bytes; longer ones are split into pieces of at most this. Default 1 MiB. */
  readonly maxLineBytes?: number;
}

interface Pending {
  time: string;
  offset: number;
  chunks: Buffer[];
  bytes: number;
  count: number;
  part: number;
}

/**
 * Joins the chunks the runtime split a line into (CRI `P`…`F`; docker entries without a
 * trailing newline), per stream, so interleaved stdout and stderr never mix. A line longer
 * than `maxLineBytes` is emitted in pieces as it grows (never dropped, never held whole),
 * cut on UTF-8 boundaries. Chunks it holds on to are copied, so a caller may read the next
 * chunks into the buffer the last ones viewed.
 */
export class LineAssembler {
  private readonly pending = new Map<Stream, Pending>();
  private readonly maxLineBytes: number;

  constructor(options: AssemblerOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
    if (!Number.isSafeInteger(this.maxLineBytes) || this.maxLineBytes < 16) throw new RangeError(`maxLineBytes must be a whole number ≥ 16, got ${this.maxLineBytes}`);
  }

  /** Takes the chunk read at file offset `offset`; returns the lines (or pieces) it completes. */
  push(chunk: LogChunk, offset: number): AssembledLine[] {
    const out: AssembledLine[] = [];
    this.pushInto(chunk, offset, out);
    return out;
  }

  /** As `push`, appending the lines (or pieces) the chunk completes to `out`. */
  pushInto(chunk: LogChunk, offset: number, out: AssembledLine[]): void {
    let state = this.pending.get(chunk.stream);
    if (!state) {
      if (!chunk.partial && this.fits(chunk)) {
        // Most lines are one chunk that fits: no state, no copy, and decoded at most once.
        const { text, invalidBytes } = chunk.text === undefined ? decodeLogBytes(chunk.content) : { text: chunk.text, invalidBytes: 0 };
        out.push({ stream: chunk.stream, time: chunk.time, message: text, offset, part: 0, last: true, chunks: 1, incomplete: false, invalidBytes });
        return;
      }
      state = { time: chunk.time, offset, chunks: [], bytes: 0, count: 0, part: 0 };
      this.pending.set(chunk.stream, state);
    }
    // A copy: the chunk may view a read buffer its caller uses again for the next read.
    state.chunks.push(Buffer.from(chunk.content));
    state.bytes += chunk.content.length;
    state.count++;
    while (state.bytes > this.maxLineBytes) out.push(this.piece(chunk.stream, state));
    if (!chunk.partial) {
      const whole = state.chunks.length === 1 ? (state.chunks[0] as Buffer) : Buffer.concat(state.chunks, state.bytes);
      out.push(this.emit(chunk.stream, state, whole, true, false));
      this.pending.delete(chunk.stream);
    }
  }

  private fits(chunk: LogChunk): boolean {
    if (chunk.text === undefined) return chunk.content.length <= this.maxLineBytes;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most texts need no count.
    return chunk.text.length * 3 <= this.maxLineBytes || Buffer.byteLength(chunk.text) <= this.maxLineBytes;
  }

  /**
   * The earliest file offset a restart must read from to see every line not yet emitted
   * whole: the first chunk of the oldest line still pending, or `readOffset` if none is.
   */
  resumeOffset(readOffset: number): number {
    let offset = readOffset;
    for (const state of this.pending.values()) offset = Math.min(offset, state.offset);
    return offset;
  }

  /** Lines still waiting for their last chunk. */
  get pendingLines(): number {
    return this.pending.size;
  }

  /** The file is done (deleted and drained, or shutting down): emits what is pending, marked incomplete. */
  flush(): AssembledLine[] {
    const out: AssembledLine[] = [];
    for (const [stream, state] of this.pending) out.push(this.emit(stream, state, Buffer.concat(state.chunks, state.bytes), true, true));
    this.pending.clear();
    return out;
  }

  /** The first `maxLineBytes` (to a UTF-8 boundary) of an oversized line, as a piece. */
  private piece(stream: Stream, state: Pending): AssembledLine {
    const all = Buffer.concat(state.chunks, state.bytes);
    const cut = utf8Boundary(all, this.maxLineBytes);
    const line = this.emit(stream, state, all.subarray(0, cut), false, false);
    const rest = all.subarray(cut);
    state.chunks = [rest];
    state.bytes = rest.length;
    state.part++;
    return line;
  }

  private emit(stream: Stream, state: Pending, bytes: Buffer, last: boolean, incomplete: boolean): AssembledLine {
    const { text, invalidBytes } = decodeLogBytes(bytes);
    return { stream, time: state.time, message: text, offset: state.offset, part: state.part, last, chunks: state.count, incomplete, invalidBytes };
  }
}
