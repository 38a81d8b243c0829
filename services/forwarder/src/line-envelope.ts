import { isRfc3339, streamAt, utf8SequenceLength } from '@tributary/container-log';
import type { ValueBlocks, FileJsonParts } from './envelope.js';

/**
 * The envelope of a whole line written straight from the file's bytes, for the lines most
 * files are made of: a CRI `F` line, or a docker json-file entry in the shape docker writes
 * (`{"log":…,"stream":…,"time":…}`) ending its line. The bytes are the same as
 * `lineValue(parse → assemble → line)` writes (a test holds them equal over random lines),
 * without decoding the line into a string, escaping it as a new one and encoding that again:
 * about half the forwarder's CPU per line before.
 *
 * Anything else (a partial chunk, another shape, a lone surrogate, bytes docker wouldn't
 * write, a line over the size limits) is `undefined`: the caller takes the general path,
 * which has the reasons and the cutting. Nothing is written to the blocks then.
 */
export class LineEnvelopeWriter {
  /** Bytes of the last line written that were not UTF-8 (escaped as `\xNN`, as `decodeLogBytes` does). */
  invalidBytes = 0;
  private readonly sourceJson: Buffer;
  private readonly tail: Buffer;
  private source: { readonly data: Buffer | undefined; readonly view: DataView } = { data: undefined, view: new DataView(new ArrayBuffer(0)) };
  private target: { readonly data: Buffer | undefined; readonly view: DataView } = { data: undefined, view: new DataView(new ArrayBuffer(0)) };
  /** The most a line's envelope takes around its message: for the room asked of the blocks. */
  private readonly fixed: number;

  constructor(
    parts: FileJsonParts,
    private readonly blocks: ValueBlocks,
    private readonly maxLineBytes: number,
    private readonly maxRecordBytes: number,
  ) {
    this.sourceJson = Buffer.from(`","source":{"kind":"file",${parts.source},"offset":`);
    this.tail = Buffer.from(`},"kubernetes":${parts.kubernetes}}`);
    // Id (at most 30), time (at most 35), the constants and an offset (at most 16 digits).
    this.fixed = OPEN.length + 30 + TIME.length + 35 + STDOUT.length + this.sourceJson.length + 16 + this.tail.length;
  }

  /** The envelope of the CRI line `data[begin, end)` (without its `\n`) read at file offset `offset`, or undefined. */
  cri(data: Buffer, begin: number, end: number, offset: number, idPrefix: Buffer): Buffer | undefined {
    const line = data;
    const n = end;
    let first = begin;
    while (first < n && first - begin < 40 && line[first] !== SPACE) first++;
    // "<time> stdout F <content>" or "<time> stdout F" (an empty line).
    const tag = first + 8;
    if (tag >= n || line[tag - 1] !== SPACE || line[tag] !== TAG_F || (tag + 1 < n && line[tag + 1] !== SPACE)) return undefined;
    const stream = streamKeysAt(line, first + 1);
    if (stream === undefined || !isRfc3339(line, begin, first)) return undefined;
    const start = Math.min(n, tag + 2);
    if (n - start > this.maxLineBytes) return undefined;
    const room = this.fixed + (n - start) * 6;
    const block = this.blocks.room(room);
    if (block === undefined) return undefined;
    let at = this.head(block, this.blocks.at, idPrefix, offset, line, begin, first, stream);
    // The message: JSON.stringify(decodeLogBytes(content).text), from the bytes.
    let invalid = 0;
    const source = this.sourceView(line);
    const target = this.blockView(block);
    for (let i = start; i < n; ) {
      // The plain bytes as they are, then the one that needs an escape or a look. The room is
      // there for copyPlain's whole words: six bytes for every byte of the line.
      const plain = copyPlain(source, i, n, target, at);
      i += plain;
      at += plain;
      if (i >= n) break;
      const c = line[i] as number;
      if (c >= 0x20 && c < 0x80) {
        if (c === QUOTE || c === BACKSLASH) block[at++] = BACKSLASH;
        block[at++] = c;
        i++;
      } else if (c < 0x20) {
        at = control(block, at, c);
        i++;
      } else {
        const length = utf8SequenceLength(line, i, n);
        if (length === 0) {
          // Not UTF-8: the four characters \xNN, their backslash escaped in JSON.
          block[at++] = BACKSLASH;
          block[at++] = BACKSLASH;
          block[at++] = 0x78; // x
          block[at++] = UPPER_HEX[c >> 4] as number;
          block[at++] = UPPER_HEX[c & 15] as number;
          invalid++;
          i++;
        } else {
          for (const stop = i + length; i < stop; ) block[at++] = line[i++] as number;
        }
      }
    }
    this.invalidBytes = invalid;
    return this.finish(block, at, offset);
  }

  /** The envelope of the docker json-file line `data[begin, end)` (without its `\n`) read at file offset `offset`, or undefined. */
  docker(data: Buffer, begin: number, end: number, offset: number, idPrefix: Buffer): Buffer | undefined {
    const line = data;
    const n = end;
    const logStart = begin + LOG_OPEN.length;
    if (!startsWith(line, begin, n, LOG_OPEN)) return undefined;
    // Docker writes the time last, and the envelope has it before the message: the end first.
    // `…","stream":"stdout","time":"<time>"}`
    if (line[n - 1] !== 0x7d || line[n - 2] !== QUOTE) return undefined;
    let timeStart = n - 3;
    while (timeStart > n - 40 && timeStart > begin && line[timeStart - 1] !== QUOTE) timeStart--;
    const timeEnd = n - 2;
    const streamEnd = timeStart - TIME_KEY.length;
    const streamStart = streamEnd - 6;
    const logEnd = streamStart - STREAM_KEY.length;
    if (logEnd < logStart || !startsWith(line, streamEnd, n, TIME_KEY) || !startsWith(line, logEnd, n, STREAM_KEY)) return undefined;
    const stream = streamKeysAt(line, streamStart);
    if (stream === undefined || !isRfc3339(line, timeStart, timeEnd)) return undefined;
    // Its text longer than the limit, or maybe (escapes shrink): the assembler cuts it in pieces.
    if (logEnd - logStart > this.maxLineBytes) return undefined;
    // The log string re-escaped as JSON.stringify would: the escaped text is at most as long.
    const room = this.fixed + (logEnd - logStart);
    const block = this.blocks.room(room);
    if (block === undefined) return undefined;
    let at = this.head(block, this.blocks.at, idPrefix, offset, line, timeStart, timeEnd, stream);
    let lastNewline = -1; // where the output was before a last character that is "\n"
    const source = this.sourceView(line);
    const target = this.blockView(block);
    let i = logStart;
    while (i < logEnd) {
      // Escapes only shrink, so the room for the escaped text has copyPlain's whole words too.
      const plain = copyPlain(source, i, logEnd, target, at);
      i += plain;
      at += plain;
      if (i >= logEnd) break;
      const c = line[i] as number;
      if (c >= 0x20 && c < 0x80 && c !== BACKSLASH) {
        if (c === QUOTE) return undefined; // the string ends before it should
        block[at++] = c;
        i++;
        continue;
      }
      if (c === BACKSLASH) {
        if (i + 1 >= logEnd) return undefined;
        const e = line[i + 1] as number;
        // The escapes JSON.stringify writes the same way, as they are.
        if (e === QUOTE || e === BACKSLASH || e === 0x6e /* n */ || e === 0x74 /* t */ || e === 0x72 /* r */) {
          if (e === 0x6e) lastNewline = at;
          block[at++] = BACKSLASH;
          block[at++] = e;
          i += 2;
          continue;
        }
        const before = at;
        let point: number;
        if (e === 0x75 /* u */) {
          if (i + 6 > logEnd) return undefined;
          point = hex4(line, i + 2);
          i += 6;
          if (point >= 0xd800 && point <= 0xdfff) {
            // A pair makes one code point; a lone half isn't text (the general path has it).
            const low = point <= 0xdbff && i + 6 <= logEnd && line[i] === BACKSLASH && line[i + 1] === 0x75 ? hex4(line, i + 2) : -1;
            if (low < 0xdc00 || low > 0xdfff) return undefined;
            point = 0x10000 + ((point - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
          }
        } else {
          point = e === 0x2f ? 0x2f : e === 0x62 ? 0x08 : e === 0x66 ? 0x0c : -1; // \/ \b \f
          i += 2;
        }
        if (point < 0) return undefined;
        at = codePoint(block, at, point);
        if (point === 0x0a) lastNewline = before;
        continue;
      }
      if (c < 0x20) return undefined; // not JSON
      const length = utf8SequenceLength(line, i, logEnd);
      // Docker writes UTF-8; JSON.parse would have made U+FFFD of anything else.
      if (length === 0) return undefined;
      for (const stop = i + length; i < stop; ) block[at++] = line[i++] as number;
    }
    // A whole line ends with "\n", left out; without it the runtime split the line.
    if (lastNewline < 0 || at !== lastNewline + 2) return undefined;
    this.invalidBytes = 0;
    return this.finish(block, lastNewline, offset);
  }

  /** A view of `data` for reading four bytes at once: one per block read, not per line. */
  private sourceView(data: Buffer): DataView {
    if (data !== this.source.data) this.source = { data, view: new DataView(data.buffer, data.byteOffset, data.byteLength) };
    return this.source.view;
  }

  private blockView(block: Buffer): DataView {
    if (block !== this.target.data) this.target = { data: block, view: new DataView(block.buffer, block.byteOffset, block.byteLength) };
    return this.target.view;
  }

  /** `{"id":…,"time":…,"stream":…,"message":"` at `at`; where the message goes. */
  private head(block: Buffer, at: number, idPrefix: Buffer, offset: number, line: Buffer, timeStart: number, timeEnd: number, stream: Buffer): number {
    block.set(OPEN, at);
    at += OPEN.length;
    // The id: fileEnvelopeId(node, identity, offset), its prefix made once per file.
    block.set(idPrefix, at);
    at = digits(block, at + idPrefix.length, offset, 36);
    block.set(TIME, at);
    at += TIME.length;
    for (let i = timeStart; i < timeEnd; i++) block[at++] = line[i] as number;
    block.set(stream, at);
    return at + stream.length;
  }

  /** The rest after the message, and the value, unless it is too large for a record. */
  private finish(block: Buffer, at: number, offset: number): Buffer | undefined {
    block.set(this.sourceJson, at);
    at += this.sourceJson.length;
    at = digits(block, at, offset, 10);
    block.set(this.tail, at);
    at += this.tail.length;
    if (at - this.blocks.at > this.maxRecordBytes) return undefined;
    return this.blocks.take(at);
  }
}

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const TAG_F = 0x46;
const OPEN = Buffer.from('{"id":"');
const TIME = Buffer.from('","time":"');
const STDOUT = Buffer.from('","stream":"stdout","message":"');
const STDERR = Buffer.from('","stream":"stderr","message":"');
const LOG_OPEN = Buffer.from('{"log":"');
const STREAM_KEY = Buffer.from('","stream":"');
const TIME_KEY = Buffer.from('","time":"');
const UPPER_HEX = Buffer.from('0123456789ABCDEF');
const LOWER_HEX = Buffer.from('0123456789abcdef');
const DIGITS = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
/** How JSON.stringify writes the control characters that have a short escape. */
const SHORT_OF: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };

/**
 * The bytes of the little-endian `word` that need an escape or a look (≥ 0x80, < 0x20, `"`
 * or `\\`), as their top bits: the classic tests for a byte below a value or equal to one,
 * on all four bytes at once. Only bytes above a flagged one can be flagged falsely (a borrow),
 * so the lowest flag is always a byte that needs one.
 */
function specialBytes(word: number): number {
  const quote = word ^ 0x22222222;
  const backslash = word ^ 0x5c5c5c5c;
  return (word | ((word - 0x20202020) & ~word) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) & 0x80808080;
}

/**
 * Copies the bytes from `i` that need no escape or look to `at`, four at a time, up to the
 * first that does (or the last three, left to the caller); how many. Whole words are written,
 * so the target must have room for four bytes more than it keeps.
 */
function copyPlain(source: DataView, i: number, end: number, target: DataView, at: number): number {
  let copied = 0;
  while (i + copied + 4 <= end) {
    const word = source.getInt32(i + copied, true);
    target.setInt32(at + copied, word, true);
    const special = specialBytes(word);
    if (special !== 0) return copied + firstFlagged(special);
    copied += 4;
  }
  return copied;
}

/** How many bytes come before the lowest flagged one in `specialBytes`' answer. */
function firstFlagged(special: number): number {
  return (31 - Math.clz32(special & -special)) >> 3;
}

/** The envelope's stream and message keys for `stdout`/`stderr` at `at`, if the six bytes spell one. */
function streamKeysAt(line: Buffer, at: number): Buffer | undefined {
  const stream = streamAt(line, at);
  return stream === 'stdout' ? STDOUT : stream === 'stderr' ? STDERR : undefined;
}

/** `bytes` are at `at`, before `end`. */
function startsWith(line: Buffer, at: number, end: number, bytes: Buffer): boolean {
  if (at < 0 || at + bytes.length > end) return false;
  for (let i = 0; i < bytes.length; i++) if (line[at + i] !== bytes[i]) return false;
  return true;
}

/** The value of four hex digits at `at`, or -1. */
function hex4(b: Buffer, at: number): number {
  let value = 0;
  for (let i = at; i < at + 4; i++) {
    const c = b[i] as number;
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** A control character as JSON.stringify writes it: `\n` and its kind, or `\u00xx`. */
function control(block: Buffer, at: number, c: number): number {
  block[at++] = BACKSLASH;
  const short = SHORT_OF[c];
  if (short !== undefined) {
    block[at++] = short;
    return at;
  }
  block[at++] = 0x75; // u
  block[at++] = 0x30;
  block[at++] = 0x30;
  block[at++] = LOWER_HEX[c >> 4] as number;
  block[at++] = LOWER_HEX[c & 15] as number;
  return at;
}

/** One decoded character (no lone surrogate) as JSON.stringify writes it, in UTF-8. */
function codePoint(block: Buffer, at: number, point: number): number {
  if (point < 0x80) {
    if (point < 0x20) return control(block, at, point);
    if (point === QUOTE || point === BACKSLASH) block[at++] = BACKSLASH;
    block[at++] = point;
  } else if (point < 0x800) {
    block[at++] = 0xc0 | (point >> 6);
    block[at++] = 0x80 | (point & 0x3f);
  } else if (point < 0x10000) {
    block[at++] = 0xe0 | (point >> 12);
    block[at++] = 0x80 | ((point >> 6) & 0x3f);
    block[at++] = 0x80 | (point & 0x3f);
  } else {
    block[at++] = 0xf0 | (point >> 18);
    block[at++] = 0x80 | ((point >> 12) & 0x3f);
    block[at++] = 0x80 | ((point >> 6) & 0x3f);
    block[at++] = 0x80 | (point & 0x3f);
  }
  return at;
}

/** A non-negative safe integer at `at`, in base 10 or 36 (lowercase, as `toString(36)`). */
function digits(block: Buffer, at: number, value: number, base: number): number {
  let length = 1;
  for (let rest = value; rest >= base; rest = Math.floor(rest / base)) length++;
  let rest = value;
  for (let i = at + length - 1; i >= at; i--) {
    block[i] = DIGITS[rest % base] as number;
    rest = Math.floor(rest / base);
  }
  return at + length;
}
