import type { AssembledLine, ContainerLogFile } from '@tributary/container-log';
import { encodeEnvelope, fileEnvelopeId, type Envelope } from '@tributary/envelope';
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
export function lineRecord(line: AssembledLine, file: SourceFile): { key: string; value: Buffer; envelope: Envelope } {
  const envelope: Envelope = {
    id: fileEnvelopeId(file.node, fileIdentityKey(file), line.offset + line.part),
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
  return { key: `${file.container.podUid}/${file.container.container}`, value: encodeEnvelope(envelope), envelope };
}
