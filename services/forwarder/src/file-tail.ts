import { detectFormat, LineAssembler, parseLine, type AssembledLine, type ContainerLogFile, type LogFormat } from '@tributary/container-log';
import { fileEnvelopeIds } from '@tributary/envelope';
import { fileIdentityKey, fileJsonParts, lineValue, type FileJsonParts, type SourceFile, type ValueBlocks } from './envelope.js';
import { FileReader, type Truncation } from './file-reader.js';

/** Longer lines are shipped in pieces of this many bytes unless --max-line-bytes says otherwise. */
export const DEFAULT_MAX_LINE_BYTES = 512 * 1024;

/** A record to produce, and what it proves once acknowledged. */
export interface TailRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly line: AssembledLine;
  /** Cut to fit a Kafka record (see `lineRecord`), with a marker in its message. */
  readonly truncated: boolean;
}

/** What one `poll()` read: its records, and the offset the file may be saved at once they (and all before) are acknowledged. */
export interface TailBatch {
  readonly records: TailRecord[];
  readonly checkpoint: number;
  /** Lines that weren't the file's format, kept as records with the raw line (see `unparsable`). */
  readonly unparsable: number;
  readonly atEnd: boolean;
  /** Bytes of the file this poll read (complete lines, their framing included). */
  readonly bytesRead: number;
  /** The file was found truncated in place (copytruncate): nothing after that was read yet. */
  readonly truncated?: boolean;
}

export interface FileTailOptions {
  readonly node: string;
  readonly path: string;
  readonly container: ContainerLogFile;
  /** Where to start: a saved position, or 0. */
  readonly offset?: number;
  readonly truncations?: number;
  /** Saved with the position: what the file held before its last truncation (to know its copy). */
  readonly truncatedFrom?: Truncation;
  readonly maxLineBytes?: number;
  /** Bytes per poll; default 1 MiB. */
  readonly readBytes?: number;
  /**
   * Where record values are written: one instance for every file of a forwarder (a block per
   * file would hold a MiB for each of a node's hundreds of files); a buffer each without.
   */
  readonly values?: ValueBlocks;
}

/**
 * One followed file: reads lines, detects the format on the first, reassembles split lines
 * and turns them into records with stable ids. A line that isn't the format is not lost:
 * it becomes a record of its own raw text (stdout, the time it was read), counted.
 */
export class FileTail {
  readonly reader: FileReader;
  private readonly assembler: LineAssembler;
  private format: LogFormat | undefined;
  private truncations: number;
  private json: FileJsonParts | undefined;
  /** The ids of the file's lines, for the identity (and truncation count) they were made for. */
  private ids: { readonly identity: string; readonly of: (offset: number) => string } | undefined;

  constructor(private readonly options: FileTailOptions) {
    this.reader = new FileReader(options.path, options.offset ?? 0);
    // Half a Kafka record: a piece's envelope fits in one whatever the line holds, mostly.
    this.assembler = new LineAssembler({ maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES });
    this.truncations = options.truncations ?? 0;
    this.reader.lastTruncation = options.truncatedFrom;
  }

  get path(): string {
    return this.options.path;
  }

  /** Times the file was truncated in place while followed: saved with its position. */
  get truncationCount(): number {
    return this.truncations;
  }

  async poll(): Promise<TailBatch> {
    const read = await this.reader.read(this.options.readBytes ?? 1024 * 1024);
    if (read.truncated) {
      this.truncations++;
      // What was pending belonged to the content before the truncation: send it as it is.
      this.format = undefined;
    }
    const lines: AssembledLine[] = read.truncated ? this.assembler.flush() : [];
    let unparsable = 0;
    for (const { offset, bytes } of read.lines) {
      this.format ??= detectFormat(bytes);
      const parsed = parseLine(this.format, bytes);
      if (parsed.ok) {
        this.assembler.pushInto(parsed.chunk, offset, lines);
        continue;
      }
      unparsable++;
      this.assembler.pushInto({ time: new Date().toISOString(), stream: 'stdout', partial: false, content: bytes }, offset, lines);
    }
    const source = await this.source();
    const records: TailRecord[] = [];
    for (const line of lines) {
      const { key, value, truncated } = lineValue(line, source, undefined, this.options.values);
      records.push({ key, value, line, truncated });
    }
    let bytesRead = 0;
    for (const l of read.lines) bytesRead += l.bytes.length + 1;
    return { records, checkpoint: this.assembler.resumeOffset(this.reader.offset), unparsable, atEnd: read.atEnd, bytesRead, ...(read.truncated ? { truncated: true } : {}) };
  }

  /** The file is gone and read to its end: its unfinished lines, marked incomplete. */
  async drain(): Promise<TailBatch> {
    const source = await this.source();
    const records = this.assembler.flush().map((line) => {
      const { key, value, truncated } = lineValue(line, source);
      return { key, value, line, truncated };
    });
    return { records, checkpoint: this.reader.offset, unparsable: 0, atEnd: true, bytesRead: 0 };
  }

  async close(): Promise<void> {
    await this.reader.close();
  }

  private async source(): Promise<SourceFile> {
    const { node, path, container } = this.options;
    this.json ??= fileJsonParts({ node, path, container });
    const identity = await this.reader.fileIdentity();
    const key = fileIdentityKey({ identity, truncations: this.truncations });
    if (this.ids?.identity !== key) this.ids = { identity: key, of: fileEnvelopeIds(node, key) };
    return { node, path, container, identity, truncations: this.truncations, json: this.json, ids: this.ids.of };
  }
}
