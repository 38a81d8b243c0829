import { hash, randomUUID } from 'node:crypto';

/** Which output stream of the container or app a line came from. */
export type Stream = 'stdout' | 'stderr';

// Type aliases, not interfaces: they get implicit index signatures, so an envelope passes
// where `Readonly<Record<string, unknown>>` is expected (the pipeline's input).

/** A line a node forwarder read from a container log file. */
export type FileSource = {
  readonly kind: 'file';
  /** The Kubernetes node the forwarder runs on. */
  readonly node: string;
  /** The log file the line was read from. */
  readonly path: string;
  /** Byte offset in that file of the line's first byte (of its first fragment, for a reassembled line). */
  readonly offset: number;
};

/** A record an application wrote through the producer SDK. */
export type SdkSource = {
  readonly kind: 'sdk';
  /** The application's name. */
  readonly app: string;
  /** The host (or app instance) it runs on. */
  readonly host: string;
};

export type EnvelopeSource = FileSource | SdkSource;

/** Where in the cluster a line came from, when the producer knows. */
export type KubernetesMetadata = {
  readonly namespace: string;
  readonly pod: string;
  readonly pod_uid: string;
  readonly container: string;
  readonly labels?: Readonly<Record<string, string>>;
};

/** The value of a `logs.<tenant>` record (DESIGN.md, Contracts → Envelope). */
export type Envelope = {
  /** Stable across retries and restarts; the Elasticsearch `_id`. Non-empty, ≤ 256 characters, ≤ 512 bytes. */
  readonly id: string;
  /** When the runtime saw the line: RFC 3339 with a zone and 0 to 9 fraction digits. */
  readonly time: string;
  readonly stream: Stream;
  /** The reassembled line, without its trailing newline. */
  readonly message: string;
  readonly source: EnvelopeSource;
  readonly kubernetes?: KubernetesMetadata;
};

/** The limits {@link parseEnvelope} enforces; `maxMessageBytes` is only the default. */
export const ENVELOPE_LIMITS = Object.freeze({
  idMaxLength: 256,
  /** Elasticsearch refuses an `_id` longer than 512 bytes. */
  idMaxBytes: 512,
  timeMaxFractionDigits: 9,
  defaultMaxMessageBytes: 1024 * 1024,
});

/**
 * The id of a line read from a file: the file's id prefix (`fileEnvelopeIdPrefix`: `f2-` and
 * 16 base64url characters) followed by the line's byte offset in base 36, lowercase. At most
 * 30 ASCII characters; the same node, file and offset always make the same id.
 *
 * Only the file is hashed, once: hashing each line (the `f1` ids, SHA-256 over node, file
 * and offset) was a tenth of the forwarder's CPU per line. And a file's ids now share a
 * prefix and grow with the offset, which Lucene looks up faster than random ids when
 * Elasticsearch checks an `_id` on indexing. Offsets are unique within a file and the prefix
 * has a fixed length, so two lines never share an id; two files share a prefix only by a
 * 96-bit collision.
 *
 * `fileIdentity` must never name two different files over the node's life: an inode alone
 * is reused after rotation (the new file's line at offset 0 would overwrite the old one's
 * document). Use device + inode + something fixed at creation (birth time, or a fingerprint
 * of the file's first bytes, as Vector and Filebeat do). Throws on arguments no caller should pass.
 */
export function fileEnvelopeId(node: string, fileIdentity: string, offset: number): string {
  const prefix = fileEnvelopeIdPrefix(node, fileIdentity);
  return `${prefix}${offsetDigits(offset)}`;
}

/**
 * What every id of a file's lines starts with: `f2-` + the first 16 base64url characters (96
 * bits) of SHA-256 over the JSON array `[node, fileIdentity]` (so no separator can make two
 * pairs collide: `("a:b","c")` and `("a","b:c")` differ). Hashed because node names run to
 * 253 characters and a file identity may be a path: the prefix has a fixed length and needs
 * no escaping, and the envelope carries node, path and offset anyway. `f2` versions the scheme.
 */
export function fileEnvelopeIdPrefix(node: string, fileIdentity: string): string {
  if (typeof node !== 'string' || node.length === 0) throw new TypeError('fileEnvelopeId: node must be a non-empty string');
  if (typeof fileIdentity !== 'string' || fileIdentity.length === 0) {
    throw new TypeError('fileEnvelopeId: fileIdentity must be a non-empty string');
  }
  return `f2-${hash('sha256', JSON.stringify([node, fileIdentity]), 'base64url').slice(0, 16)}`;
}

/** `fileEnvelopeId` for one file's lines: the prefix hashed once. */
export function fileEnvelopeIds(node: string, fileIdentity: string): (offset: number) => string {
  const prefix = fileEnvelopeIdPrefix(node, fileIdentity);
  return (offset) => `${prefix}${offsetDigits(offset)}`;
}

function offsetDigits(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`fileEnvelopeId: offset must be a non-negative integer, got ${offset}`);
  return offset.toString(36);
}

/**
 * A new id for an SDK record: a UUID version 7 (RFC 9562), time-ordered by millisecond
 * with 74 random bits, so ids Elasticsearch receives together share prefixes.
 *
 * Call it once per record, when the app hands the record over, and keep it with the record
 * through every retry: a new id per attempt would store a retried record twice. An app that
 * already has a stable id for the event (an event or request id) should pass that instead.
 */
export function newSdkEnvelopeId(now: number = Date.now()): string {
  // randomUUID draws from a pooled random buffer (cheaper than our own randomFill per id); we
  // replace its first 48 bits with the time and its version nibble with 7; the variant stays.
  const random = randomUUID();
  const time = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
