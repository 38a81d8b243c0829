import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where reading of one file stands: every byte before `offset` is acknowledged by Kafka
 * (or was never a record). A file is known by device + inode, and by a fingerprint of its
 * first line, so an inode reused by a new file is not mistaken for the old one.
 */
export interface FilePosition {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  /** SHA-256 (hex, 16 characters) of the file's first line; empty until the first line is complete. */
  readonly fingerprint: string;
  readonly offset: number;
  /** Times the file was truncated in place while followed (part of its lines' ids); 0 when absent. */
  readonly truncations?: number;
  /** Before its last truncation (copytruncate): that content's fingerprint and how far it was read; its copy is read on from there. */
  readonly truncatedFrom?: { readonly fingerprint: string; readonly offset: number };
}

/** The position file could not be read as one: where, and why. */
export class PositionFileError extends Error {
  readonly code = 'TRIBUTARY_POSITION_FILE';
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'PositionFileError';
  }
}

const VERSION = 1;

/**
 * The node's one position file, `<stateDir>/positions.json`. Saved atomically: written to a
 * temporary file, fsynced, renamed over the old one, and the directory fsynced, so a crash
 * leaves either the old positions or the new ones, never half of either.
 */
export class PositionStore {
  readonly path: string;

  constructor(private readonly stateDir: string) {
    this.path = join(stateDir, 'positions.json');
  }

  /** The saved positions; none when there is no file yet. Throws `PositionFileError` for a file that isn't one. */
  async load(): Promise<FilePosition[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new PositionFileError(this.path, `not JSON: ${(err as Error).message}`);
    }
    const doc = parsed as { version?: unknown; files?: unknown };
    if (typeof doc !== 'object' || doc === null || doc.version !== VERSION || !Array.isArray(doc.files)) {
      throw new PositionFileError(this.path, `expected {"version":${VERSION},"files":[…]}`);
    }
    return doc.files.map((file: unknown, i: number) => validPosition(file, `${this.path}: files[${i}]`));
  }

  async save(positions: Iterable<FilePosition>): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    const body = JSON.stringify({ version: VERSION, savedAt: new Date().toISOString(), files: [...positions] });
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
    // The rename is durable only once the directory entry is.
    const dir = await open(this.stateDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

function validPosition(value: unknown, where: string): FilePosition {
  const p = value as Partial<Record<keyof FilePosition, unknown>>;
  const whole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof p !== 'object' || p === null) throw new PositionFileError(where, 'not an object');
  if (typeof p.path !== 'string' || p.path === '') throw new PositionFileError(where, 'path: expected a file path');
  if (!whole(p.dev) || !whole(p.ino)) throw new PositionFileError(where, 'dev, ino: expected whole numbers');
  if (typeof p.fingerprint !== 'string' || !/^([0-9a-f]{16})?$/.test(p.fingerprint)) throw new PositionFileError(where, 'fingerprint: expected 16 hex characters or ""');
  if (!whole(p.offset)) throw new PositionFileError(where, 'offset: expected a whole number of bytes');
  if (p.truncations !== undefined && !whole(p.truncations)) throw new PositionFileError(where, 'truncations: expected a whole number');
  const from = p.truncatedFrom as { fingerprint?: unknown; offset?: unknown } | undefined;
  if (from !== undefined && (typeof from !== 'object' || from === null || typeof from.fingerprint !== 'string' || !whole(from.offset))) {
    throw new PositionFileError(where, 'truncatedFrom: expected {"fingerprint": "…", "offset": n}');
  }
  return {
    path: p.path,
    dev: p.dev,
    ino: p.ino,
    fingerprint: p.fingerprint,
    offset: p.offset,
    ...(p.truncations ? { truncations: p.truncations } : {}),
    ...(from ? { truncatedFrom: { fingerprint: from.fingerprint as string, offset: from.offset as number } } : {}),
  };
}
