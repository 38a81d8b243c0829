import { detectFormat, LineAssembler, parseLine, type AssembledLine, type ContainerLogFile, type LogFormat } from '@tributary/container-log';
import { fileEnvelopeIdPrefix, fileEnvelopeIds } from '@tributary/envelope';
import { LOG_RECORD_MAX_BYTES } from '@tributary/kafka';
import { fileIdentityKey, fileJsonParts, lineValue, ValueBlocks, type FileJsonParts, type SourceFile } from './envelope.js';
import { FileReader, type ReadBuffers, type Truncation } from './file-reader.js';
import { LineEnvelopeWriter } from './line-envelope.js';

/** Longer lines are shipped in pieces of this many bytes unless --max-line-bytes says otherwise. */
export const DEFAULT_MAX_LINE_BYTES = 512 * 1024;

/** A record to produce: a kafkajs message as it is. */
export interface TailRecord {
  /** `<pod uid>/<container>` in UTF-8, one buffer shared by the file's records (no string to encode per record). */
  readonly key: Buffer;
  readonly value: Buffer;
}

/** What a poll's lines were, for the metrics. */
export interface LineCounts {
  /** Lines joined from chunks the runtime split. */
  partial: number;
  /** Pieces of lines over the maximum line size. */
  oversized: number;
  /** Lines with bytes that are not UTF-8. */
  invalidUtf8: number;
  /** Records cut to fit a Kafka record (see `lineRecord`), with a marker in their message. */
  truncated: number;
}

function noCounts(): LineCounts {
  return { partial: 0, oversized: 0, invalidUtf8: 0, truncated: 0 };
}

/** What one `poll()` read: its records, and the offset the file may be saved at once they (and all before) are acknowledged. */
export interface TailBatch {
  readonly records: TailRecord[];
  readonly counts: LineCounts;
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
   * file would hold a MiB for each of a node's hundreds of files); blocks of its own without.
   */
  readonly values?: ValueBlocks;
  /** Where reads land, one instance for every file of a forwarder (see `ReadBuffers`); blocks per read without. */
  readonly reads?: ReadBuffers;
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
  private writer: LineEnvelopeWriter | undefined;
  private key: Buffer | undefined;
  private readonly values: ValueBlocks;
  private readonly maxLineBytes: number;
  private readonly maxRecordBytes = LOG_RECORD_MAX_BYTES;
  /** The ids of the file's lines, for the identity (and truncation count) they were made for. */
  private ids: { readonly identity: string; readonly of: (offset: number) => string; readonly prefix: Buffer } | undefined;

  constructor(private readonly options: FileTailOptions) {
    this.reader = new FileReader(options.path, options.offset ?? 0, undefined, options.reads);
    // Half a Kafka record: a piece's envelope fits in one whatever the line holds, mostly.
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.assembler = new LineAssembler({ maxLineBytes: this.maxLineBytes });
    this.values = options.values ?? new ValueBlocks(64 * 1024);
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
    const source = await this.source();
    const records: TailRecord[] = [];
    const counts = noCounts();
    if (read.truncated) this.records(this.assembler.flush(), source, records, counts);
    const writer = this.writer as LineEnvelopeWriter;
    const idPrefix = (this.ids as { prefix: Buffer }).prefix;
    const key = this.key as Buffer;
    const lines: AssembledLine[] = [];
    let unparsable = 0;
    let bytesRead = 0;
    for (const { data, offset: runOffset, bounds } of read.runs) {
      bytesRead += (bounds[bounds.length - 1] as number) - (bounds[0] as number);
      for (let k = 0; k + 1 < bounds.length; k++) {
        const begin = bounds[k] as number;
        const end = (bounds[k + 1] as number) - 1;
        const offset = runOffset + begin;
        this.format ??= detectFormat(data.subarray(begin, end));
        // Most lines are whole and plain: their envelope straight from their bytes.
        if (this.assembler.pendingLines === 0) {
          const value = this.format === 'cri' ? writer.cri(data, begin, end, offset, idPrefix) : writer.docker(data, begin, end, offset, idPrefix);
          if (value !== undefined) {
            records.push({ key, value });
            if (writer.invalidBytes > 0) counts.invalidUtf8++;
            continue;
          }
        }
        const bytes = data.subarray(begin, end);
        const parsed = parseLine(this.format, bytes);
        if (parsed.ok) this.assembler.pushInto(parsed.chunk, offset, lines);
        else {
          unparsable++;
          this.assembler.pushInto({ time: new Date().toISOString(), stream: 'stdout', partial: false, content: bytes }, offset, lines);
        }
        if (lines.length > 0) {
          this.records(lines, source, records, counts);
          lines.length = 0;
        }
      }
    }
    return { records, counts, checkpoint: this.assembler.resumeOffset(this.reader.offset), unparsable, atEnd: read.atEnd, bytesRead, ...(read.truncated ? { truncated: true } : {}) };
  }

  /** The file is gone and read to its end: its unfinished lines, marked incomplete. */
  async drain(): Promise<TailBatch> {
    const source = await this.source();
    const records: TailRecord[] = [];
    const counts = noCounts();
    this.records(this.assembler.flush(), source, records, counts);
    return { records, counts, checkpoint: this.reader.offset, unparsable: 0, atEnd: true, bytesRead: 0 };
  }

  /** The records of lines that went through the assembler, counted. */
  private records(lines: readonly AssembledLine[], source: SourceFile, records: TailRecord[], counts: LineCounts): void {
    for (const line of lines) {
      const { value, truncated } = lineValue(line, source, this.maxRecordBytes, this.values);
      records.push({ key: this.key as Buffer, value });
      if (line.chunks > 1) counts.partial++;
      if (line.part > 0 || !line.last) counts.oversized++;
      if (line.invalidBytes > 0) counts.invalidUtf8++;
      if (truncated) counts.truncated++;
    }
  }

  async close(): Promise<void> {
    await this.reader.close();
  }

  private async source(): Promise<SourceFile> {
    const { node, path, container } = this.options;
    if (!this.json) {
      this.json = fileJsonParts({ node, path, container });
      this.key = Buffer.from(this.json.key);
      this.writer = new LineEnvelopeWriter(this.json, this.values, this.maxLineBytes, this.maxRecordBytes);
    }
    const identity = await this.reader.fileIdentity();
    const key = fileIdentityKey({ identity, truncations: this.truncations });
    if (this.ids?.identity !== key) this.ids = { identity: key, of: fileEnvelopeIds(node, key), prefix: Buffer.from(fileEnvelopeIdPrefix(node, key), 'latin1') };
    return { node, path, container, identity, truncations: this.truncations, json: this.json, ids: this.ids.of };
  }
}
