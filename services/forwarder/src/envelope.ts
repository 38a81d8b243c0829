import type { AssembledLine, ContainerLogFile } from '@tributary/container-log';
import { encodeEnvelope, fileEnvelopeId, type Envelope } from '@tributary/envelope';
import { LOG_RECORD_MAX_BYTES } from '@tributary/kafka';
import type { FileIdentity } from './file-reader.js';

/** What the forwarder knows of the file a line came from. */
export interface SourceFile {
  /** The node the forwarder runs on. */
  readonly node: string;
  readonly path: string;
  readonly container: ContainerLogFile;
  readonly identity: FileIdentity;
  /**
   * How many times this file was truncated in place (copytruncate) while followed: part of
   * its identity, so a file that starts over with the same first line doesn't reuse the ids
   * of what it held before (Elasticsearch would take the new lines for duplicates).
   */
  readonly truncations: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** The envelope's JSON around each line that is the same for the whole file (`fileJsonParts`), made once per file rather than per line. */
  readonly json?: FileJsonParts;
  /** `fileEnvelopeIds(node, fileIdentityKey(file))`, made once per identity rather than per line. */
  readonly ids?: (offset: number) => string;
}

/** JSON fragments of a file's envelopes that don't change from line to line. */
export interface FileJsonParts {
  /** `"node":…,"path":…` of `source`. */
  readonly source: string;
  /** The whole `kubernetes` object. */
  readonly kubernetes: string;
  /** The record key: `<pod uid>/<container>`. */
  readonly key: string;
}

/** The JSON fragments every envelope of `file` shares; `lineRecord` writes the same bytes with or without them. */
export function fileJsonParts(file: Pick<SourceFile, 'node' | 'path' | 'container' | 'labels'>): FileJsonParts {
  const { namespace, pod, podUid, container } = file.container;
  const kubernetes = { namespace, pod, pod_uid: podUid, container, ...(file.labels ? { labels: file.labels } : {}) };
  return { source: `"node":${JSON.stringify(file.node)},"path":${JSON.stringify(file.path)}`, kubernetes: JSON.stringify(kubernetes), key: `${podUid}/${container}` };
}

/** The identity string of a file in its lines' ids: stable across renames and restarts. */
export function fileIdentityKey(file: Pick<SourceFile, 'identity' | 'truncations'>): string {
  const { dev, ino, fingerprint } = file.identity;
  return `${dev}:${ino}:${fingerprint}:${file.truncations}`;
}

/**
 * The envelope of one assembled line, and its record key (pod uid + container: one stream,
 * one partition, in order). The id is derived from node, file identity and the line's
 * offset, so a line read again after a crash gets the same id and is stored once. The pieces
 * of an oversized line use `offset + part`: unique, because a line of n bytes holds fewer
 * than n pieces and the next line starts after it.
 */
export function lineRecord(line: AssembledLine, file: SourceFile, maxRecordBytes = LOG_RECORD_MAX_BYTES): { key: string; value: Buffer; envelope: Envelope; truncated: boolean } {
  const record = lineValue(line, file, maxRecordBytes);
  return { ...record, envelope: record.envelope ?? envelopeOf(line, file, idOf(line, file)) };
}

/**
 * `lineRecord` without the envelope object (only its bytes), as the forwarder needs it: per
 * line only the id, time, message and offset are written, around the file's JSON made once.
 * `envelope` is there when the line had to be cut to fit. With `blocks`, the value is a view
 * of a block shared with other values rather than a buffer of its own.
 */
export function lineValue(line: AssembledLine, file: SourceFile, maxRecordBytes = LOG_RECORD_MAX_BYTES, blocks?: ValueBlocks): { key: string; value: Buffer; truncated: boolean; envelope?: Envelope } {
  const parts = file.json ?? fileJsonParts(file);
  const id = idOf(line, file);
  // The same bytes as encodeEnvelope (a test holds them equal), written directly. The id is
  // base64url and the time an RFC 3339 time (parseLine checked it, or the forwarder wrote it):
  // neither needs escaping.
  const json = `{"id":"${id}","time":"${line.time}","stream":"${line.stream}","message":${JSON.stringify(line.message)},"source":{"kind":"file",${parts.source},"offset":${line.offset}},"kubernetes":${parts.kubernetes}}`;
  const value = blocks ? blocks.write(json) : Buffer.from(json);
  if (value.length <= maxRecordBytes) return { key: parts.key, value, truncated: false };
  // Within --max-line-bytes, yet too large once encoded (JSON writes a control character as
  // six bytes): Kafka would refuse it forever. Its message is cut, with a marker saying so.
  const envelope = envelopeOf(line, file, id);
  let message = envelope.message;
  let truncated: Envelope = envelope;
  let cut = value;
  while (cut.length > maxRecordBytes && message.length > 0) {
    const over = cut.length - maxRecordBytes;
    message = message.slice(0, Math.max(0, Math.min(message.length - Math.ceil(over / 6) - 64, Math.floor(message.length * 0.9))));
    truncated = { ...envelope, message: `${message}…[truncated by the forwarder: over ${maxRecordBytes} bytes encoded]` };
    cut = encodeEnvelope(truncated);
  }
  return { key: parts.key, value: cut, envelope: truncated, truncated: true };
}

function idOf(line: AssembledLine, file: SourceFile): string {
  const offset = line.offset + line.part;
  return file.ids ? file.ids(offset) : fileEnvelopeId(file.node, fileIdentityKey(file), offset);
}

function envelopeOf(line: AssembledLine, file: SourceFile, id: string): Envelope {
  return {
    id,
    time: line.time,
    stream: line.stream,
    message: line.message,
    source: { kind: 'file', node: file.node, path: file.path, offset: line.offset },
    kubernetes: {
      namespace: file.container.namespace,
      pod: file.container.pod,
      pod_uid: file.container.podUid,
      container: file.container.container,
      ...(file.labels ? { labels: file.labels } : {}),
    },
  };
}

/**
 * Values written one after another into shared blocks: one allocation for many records
 * rather than one each (with Node's pool, also a length pass per string). A block lives
 * as long as any value in it: a poll's records, until Kafka or the spool has them.
 */
export class ValueBlocks {
  private block: Buffer = Buffer.allocUnsafe(0);
  private used = 0;

  constructor(private readonly blockBytes = 1024 * 1024) {}

  /** `text` as UTF-8 bytes in a block. */
  write(text: string): Buffer {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, or a new block.
    const block = this.room(text.length * 3);
    if (!block) return Buffer.from(text);
    return this.take(this.used + block.write(text, this.used, 'utf8'));
  }

  /**
   * The block a value of at most `most` bytes is written into by hand, from `at` on, then
   * kept with `take`; undefined when no block is that large (the caller makes its own buffer).
   */
  room(most: number): Buffer | undefined {
    if (most > this.blockBytes) return undefined;
    if (this.used + most > this.block.length) {
      this.block = Buffer.allocUnsafeSlow(this.blockBytes);
      this.used = 0;
    }
    return this.block;
  }

  /** Where the next value starts in the block `room` returned. */
  get at(): number {
    return this.used;
  }

  /** The value written from `at` to `end` in the block `room` returned. */
  take(end: number): Buffer {
    const start = this.used;
    this.used = end;
    return this.block.subarray(start, end);
  }
}
