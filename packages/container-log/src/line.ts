import type { Stream } from './types.js';

/** One physical line of a container log file, decoded. */
export interface LogChunk {
  /** The runtime's timestamp of the chunk, as written (RFC 3339). */
  readonly time: string;
  readonly stream: Stream;
  /** The runtime split the line here (CRI `P`, docker without a trailing `\n`): more follows. */
  readonly partial: boolean;
  /** The content, without the newline that ends a full line. */
  readonly content: Buffer;
  /**
   * The content as text, when the format had it decoded already (docker's JSON): the same as
   * `decodeLogBytes(content).text`, so a line of one chunk needn't be decoded again.
   */
  readonly text?: string;
}

export type LogFormat = 'cri' | 'docker';

export type ChunkResult = { readonly ok: true; readonly chunk: LogChunk } | { readonly ok: false; readonly reason: string };

const SPACE = 0x20;
const COLON = 0x3a;
const TAG_P = 0x50;
const TAG_F = 0x46;
const EMPTY = Buffer.alloc(0);
const STREAMS: Record<string, Stream> = { stdout: 'stdout', stderr: 'stderr' };
const CRI_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Whether `b[start, end)` is a time `CRI_TIME` takes, checked on the bytes (no string made). */
export function isRfc3339(b: Buffer, start: number, end: number): boolean {
  if (end - start < 20) return false;
  const s = start;
  if (!(digit(b, s) && digit(b, s + 1) && digit(b, s + 2) && digit(b, s + 3) && b[s + 4] === 0x2d && digit(b, s + 5) && digit(b, s + 6) && b[s + 7] === 0x2d && digit(b, s + 8) && digit(b, s + 9))) return false;
  if (!(b[s + 10] === 0x54 && digit(b, s + 11) && digit(b, s + 12) && b[s + 13] === 0x3a && digit(b, s + 14) && digit(b, s + 15) && b[s + 16] === 0x3a && digit(b, s + 17) && digit(b, s + 18))) return false;
  let p = s + 19;
  if (b[p] === 0x2e) {
    const fraction = ++p;
    while (p < end && p - fraction < 10 && digit(b, p)) p++;
    if (p === fraction || p - fraction > 9) return false;
  }
  if (b[p] === 0x5a) return p + 1 === end;
  return (b[p] === 0x2b || b[p] === 0x2d) && p + 6 === end && digit(b, p + 1) && digit(b, p + 2) && b[p + 3] === 0x3a && digit(b, p + 4) && digit(b, p + 5);
}

function digit(b: Buffer, at: number): boolean {
  const c = b[at] as number;
  return c >= 0x30 && c <= 0x39;
}

/** Which format a file is in, from its first line: docker json-file lines are JSON objects. */
export function detectFormat(firstLine: Buffer): LogFormat {
  return firstLine[0] === 0x7b /* { */ ? 'docker' : 'cri';
}

export function parseLine(format: LogFormat, line: Buffer): ChunkResult {
  return format === 'cri' ? parseCriLine(line) : parseDockerLine(line);
}

/**
 * A CRI line: `<RFC 3339 time> <stdout|stderr> <tag>[:<more tags>] <content>`, the tag `P`
 * for a partial chunk and `F` for the last (or only) one. `line` is without its `\n`.
 */
export function parseCriLine(line: Buffer): ChunkResult {
  const first = line.indexOf(SPACE);
  const second = first < 0 ? -1 : line.indexOf(SPACE, first + 1);
  // The common shape, checked on the bytes: "stdout"/"stderr", then "P" or "F" alone or before ":".
  if (second - first === 7) {
    const stream = streamAt(line, first + 1);
    const tag = line[second + 1];
    const after = line[second + 2];
    if (stream && (tag === TAG_P || tag === TAG_F) && (after === undefined || after === SPACE || after === COLON)) {
      const time = line.toString('latin1', 0, first);
      if (CRI_TIME.test(time)) {
        const third = after === SPACE ? second + 2 : line.indexOf(SPACE, second + 1);
        return { ok: true, chunk: { time, stream, partial: tag === TAG_P, content: third < 0 ? EMPTY : line.subarray(third + 1) } };
      }
    }
  }
  return parseCriLineSlowly(line);
}

/** `stdout` or `stderr` when the six bytes at `at` spell one. */
export function streamAt(line: Buffer, at: number): Stream | undefined {
  if (line[at] !== 0x73 || line[at + 1] !== 0x74 || line[at + 2] !== 0x64) return undefined; // "std"
  const a = line[at + 3];
  const b = line[at + 4];
  const c = line[at + 5];
  if (a === 0x6f && b === 0x75 && c === 0x74) return 'stdout';
  if (a === 0x65 && b === 0x72 && c === 0x72) return 'stderr';
  return undefined;
}

/** The same parse through strings, with a reason for every line that isn't CRI. */
function parseCriLineSlowly(line: Buffer): ChunkResult {
  const first = line.indexOf(SPACE);
  const second = first < 0 ? -1 : line.indexOf(SPACE, first + 1);
  const third = second < 0 ? -1 : line.indexOf(SPACE, second + 1);
  // A full line with empty content may end right after the tag.
  const tagEnd = third < 0 ? line.length : third;
  if (first < 0 || second < 0) return { ok: false, reason: 'not a CRI line: expected "<time> <stream> <P|F> <content>"' };
  const time = line.toString('latin1', 0, first);
  if (!CRI_TIME.test(time)) return { ok: false, reason: `not a CRI line: ${JSON.stringify(time.slice(0, 40))} is not an RFC 3339 time` };
  const stream = STREAMS[line.toString('latin1', first + 1, second)];
  if (!stream) return { ok: false, reason: `not a CRI line: stream ${JSON.stringify(line.toString('latin1', first + 1, Math.min(second, first + 20)))} is not stdout or stderr` };
  const tag = line.toString('latin1', second + 1, tagEnd).split(':')[0];
  if (tag !== 'P' && tag !== 'F') return { ok: false, reason: `not a CRI line: tag ${JSON.stringify(tag?.slice(0, 10))} is not P or F` };
  return { ok: true, chunk: { time, stream, partial: tag === 'P', content: third < 0 ? Buffer.alloc(0) : line.subarray(third + 1) } };
}

/**
 * A docker json-file line: `{"log":"…","stream":"stdout|stderr","time":"…"}`. Docker splits
 * lines longer than 16 KiB into several entries; all but the last lack the trailing `\n`.
 */
export function parseDockerLine(line: Buffer): ChunkResult {
  let entry: unknown;
  try {
    entry = JSON.parse(line.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not a docker json-file line: ${(err as Error).message.slice(0, 200)}` };
  }
  if (typeof entry !== 'object' || entry === null) return { ok: false, reason: 'not a docker json-file line: not a JSON object' };
  const { log, stream, time } = entry as { log?: unknown; stream?: unknown; time?: unknown };
  if (typeof log !== 'string') return { ok: false, reason: 'not a docker json-file line: "log" is not a string' };
  const streamName = typeof stream === 'string' ? STREAMS[stream] : undefined;
  if (!streamName) return { ok: false, reason: `not a docker json-file line: "stream" is ${JSON.stringify(stream)}, not stdout or stderr` };
  if (typeof time !== 'string' || !CRI_TIME.test(time)) return { ok: false, reason: `not a docker json-file line: "time" is ${JSON.stringify(time)}, not an RFC 3339 time` };
  const partial = !log.endsWith('\n');
  const text = partial ? log : log.slice(0, -1);
  // A lone surrogate (only an escape can write one) becomes U+FFFD in UTF-8: such text isn't the bytes' text.
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) return { ok: true, chunk: { time, stream: streamName, partial, content: Buffer.from(text, 'utf8') } };
  return { ok: true, chunk: new DecodedChunk(time, streamName, partial, text) };
}

/** A chunk whose text the format had decoded: its bytes are made only if asked for (a partial or oversized line). */
class DecodedChunk implements LogChunk {
  private bytes: Buffer | undefined;

  constructor(
    readonly time: string,
    readonly stream: Stream,
    readonly partial: boolean,
    readonly text: string,
  ) {}

  get content(): Buffer {
    this.bytes ??= Buffer.from(this.text, 'utf8');
    return this.bytes;
  }
}
