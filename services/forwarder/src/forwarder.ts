import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ICustomPartitioner, Kafka, Message, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { retryDelay } from '@tributary/elasticsearch';
import { createHealthServer, type Readiness } from '@tributary/service';
import { createKafka } from '@tributary/kafka';
import { tenantNames } from '@tributary/tenant';
import { discoverLogFiles, type LogFilter } from './discovery.js';
import { FileReader } from './file-reader.js';
import { FileTail, type TailBatch } from './file-tail.js';
import { ForwarderMetrics } from './metrics.js';
import { PositionStore, type FilePosition } from './positions.js';

// Not every kafkajs export is visible to ESM's static analysis of CommonJS: read it off the module.
const { CompressionTypes, Partitioners } = kafkajs;

export interface ForwarderOptions {
  readonly brokers: readonly string[];
  /** The kubelet's pod log root; default `/var/log/pods`. */
  readonly root?: string;
  /** This node's name: part of every id. */
  readonly node: string;
  /** Where the position file lives (a hostPath, so it survives the pod). */
  readonly stateDir: string;
  readonly filter?: LogFilter;
  readonly maxLineBytes?: number;
  /** How often files are read, ms; default 250. */
  readonly pollIntervalMs?: number;
  /** How often the root is listed for new files, and followed files checked for rotation, ms; default 2000. */
  readonly rescanIntervalMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Port of `/healthz`, `/readyz` and `/metrics`; 0 picks a free one; undefined serves no HTTP. */
  readonly metricsPort?: number | undefined;
  /** Address the HTTP server binds; default 0.0.0.0. */
  readonly host?: string | undefined;
  readonly logger: Logger;
}

interface Followed {
  readonly tail: FileTail;
  readonly topic: string;
  /** `<pod uid>/<container>`: the stream its lines belong to (the record key). */
  readonly stream: string;
  /** Read and not yet acknowledged: sent again, as it is, until Kafka takes it. */
  unsent: TailBatch | undefined;
  /** The offset acknowledged so far: what the position file holds for it. */
  acknowledged: number;
  failures: number;
  retryAt: number;
  /** The path names another file now: read this one to its end, then forget it. */
  replaced: boolean;
}

/**
 * The node forwarder: follows every container log file under the root, reassembles split
 * lines, and produces envelopes to `logs.<namespace>` (idempotent, acks=all, LZ4), one file's
 * records in order. A file's position advances only over records Kafka acknowledged, and is
 * saved atomically; after a crash reading resumes there and re-sent lines keep their ids.
 */
export class Forwarder {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private readonly positions: PositionStore;
  private readonly followed = new Map<string, Followed>();
  private saved = new Map<string, FilePosition>();
  /** Files read to their end and forgotten, kept in the position file while they exist: a restart must not read them again. */
  private readonly finished = new Map<string, FilePosition>();
  /** Rotated files found read to their end, by device, inode, size and mtime: not opened again while unchanged. */
  private readonly settledRotated = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastScan = 0;
  private running = false;
  private cycle: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private dirty = false;
  private readonly counters = new ForwarderMetrics();
  private http: FastifyInstance | undefined;
  private url: string | undefined;
  private ready = false;

  constructor(private readonly options: ForwarderOptions) {
    this.logger = options.logger.child({ component: 'forwarder', node: options.node });
    this.kafka = createKafka({ brokers: options.brokers, clientId: `tributary-forwarder-${options.node}` }, this.logger);
    this.positions = new PositionStore(options.stateDir);
  }

  /** This instance's metrics, served at `/metrics` when a port is set. */
  get metrics(): ForwarderMetrics {
    return this.counters;
  }

  /** The base URL of `/healthz`, `/readyz` and `/metrics`, once started with a `metricsPort`. */
  get metricsAddress(): string | undefined {
    return this.url;
  }

  readiness(): Readiness {
    if (!this.running && this.ready) return { ready: false, reason: 'stopping' };
    return this.ready ? { ready: true } : { ready: false, reason: 'loading positions and connecting to Kafka' };
  }

  async start(): Promise<void> {
    if (this.options.metricsPort !== undefined) {
      this.http = createHealthServer({ metrics: this.counters.registry, readiness: () => this.readiness(), logger: this.options.logger, component: 'forwarder-http' });
      this.url = await this.http.listen({ port: this.options.metricsPort, host: this.options.host ?? '0.0.0.0' });
    }
    for (const position of await this.positions.load()) {
      this.saved.set(identityKey(position), position);
      // Until followed again, a saved file counts as finished up to its offset: kept in the
      // position file while it exists, so a rotated file read to its end isn't read again.
      this.finished.set(identityKey(position), position);
    }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: cachedPartitioner });
    await this.producer.connect();
    this.running = true;
    await this.scan();
    this.ready = true;
    this.schedule();
  }

  /** Files followed now. */
  get files(): number {
    return this.followed.size;
  }

  /** Runs one read-and-produce pass now (tests; the timer runs them otherwise). */
  async runOnce(): Promise<void> {
    this.cycle = this.cycle.then(() => this.pass());
    await this.cycle;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.cycle.catch(() => undefined);
    await this.savePositions();
    for (const followed of this.followed.values()) await followed.tail.close();
    await this.producer?.disconnect();
    await this.http?.close();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.cycle = this.cycle.then(() => this.pass()).catch((err: unknown) => this.logger.error({ err }, 'forwarding pass failed'));
      void this.cycle.finally(() => this.schedule());
    }, this.options.pollIntervalMs ?? 250);
  }

  private async pass(): Promise<void> {
    if (Date.now() - this.lastScan >= (this.options.rescanIntervalMs ?? 2000)) await this.scan();
    const now = Date.now();
    const due: Followed[] = [];
    for (const followed of await this.inStreamOrder()) {
      if (followed.retryAt > now) continue;
      if (!followed.unsent) {
        const batch = await followed.tail.poll();
        const drained = followed.replaced && batch.atEnd ? await followed.tail.drain() : undefined;
        followed.unsent = drained ? { ...batch, records: [...batch.records, ...drained.records], checkpoint: drained.checkpoint } : batch;
        if (batch.unparsable > 0) this.logger.warn({ path: followed.tail.path, lines: batch.unparsable }, 'lines not in the file’s format: shipped as their raw text');
        this.count(followed, followed.unsent);
      }
      due.push(followed);
    }
    // One request per tenant topic: a tenant whose topic is missing holds back no other.
    const byTopic = new Map<string, Followed[]>();
    for (const followed of due) groupInto(byTopic, followed.topic, followed);
    await Promise.all([...byTopic].map(([topic, files]) => this.produce(topic, files)));
    for (const followed of [...this.followed.values()]) {
      if (followed.replaced && !followed.unsent) await this.forget(followed);
    }
    this.counters.filesFollowed.set(this.followed.size);
    let unacknowledged = 0;
    for (const followed of this.followed.values()) unacknowledged += Math.max(0, ((await followed.tail.reader.size()) ?? 0) - followed.acknowledged);
    this.counters.unacknowledgedBytes.set(unacknowledged);
    if (this.dirty) await this.savePositions();
  }

  /**
   * The files to read this pass: of the files of one stream (a container's rotated files and
   * its live one) only the oldest, so a stream's lines go out in the order they were written.
   * Rotated files are older than the live one, and among themselves ordered by when they
   * were last written (rotation suffixes are dates for the kubelet, but count the other way
   * for logrotate's `.1`, `.2`).
   */
  private async inStreamOrder(): Promise<Followed[]> {
    const streams = new Map<string, Followed[]>();
    for (const followed of this.followed.values()) groupInto(streams, followed.stream, followed);
    const order: Followed[] = [];
    for (const files of streams.values()) {
      if (files.length === 1) {
        order.push(files[0] as Followed);
        continue;
      }
      const aged = await Promise.all(files.map(async (f) => ({ f, at: f.replaced ? ((await f.tail.reader.modifiedAt()) ?? 0) : Number.POSITIVE_INFINITY })));
      aged.sort((a, b) => a.at - b.at);
      order.push((aged[0] as { f: Followed }).f);
    }
    return order;
  }

  private async produce(topic: string, files: Followed[]): Promise<void> {
    const messages: Message[] = [];
    for (const followed of files) for (const record of (followed.unsent as TailBatch).records) messages.push({ key: record.key, value: record.value });
    try {
      if (messages.length > 0) await (this.producer as Producer).send({ topic, acks: -1, compression: CompressionTypes.LZ4, messages });
    } catch (err) {
      this.counters.produceErrors.inc({ tenant: topic.slice('logs.'.length) });
      for (const followed of files) {
        followed.failures++;
        followed.retryAt = Date.now() + retryDelay(followed.failures, this.options.backoff ?? { initialMs: 200, maxMs: 30_000 });
      }
      this.logger.warn({ err, topic, records: messages.length, files: files.length }, 'could not produce: retrying (a missing tenant topic is created by the control plane)');
      return;
    }
    this.counters.recordsProduced.inc({ tenant: topic.slice('logs.'.length) }, messages.length);
    for (const followed of files) {
      const batch = followed.unsent as TailBatch;
      followed.unsent = undefined;
      followed.failures = 0;
      if (batch.checkpoint !== followed.acknowledged) {
        followed.acknowledged = batch.checkpoint;
        this.dirty = true;
      }
    }
  }

  /** Counts what one poll read, by tenant. */
  private count(followed: Followed, batch: TailBatch): void {
    const tenant = followed.topic.slice('logs.'.length);
    let partial = 0;
    let oversized = 0;
    let invalid = 0;
    for (const { line } of batch.records) {
      if (line.chunks > 1) partial++;
      if (line.part > 0 || !line.last) oversized++;
      if (line.invalidBytes > 0) invalid++;
    }
    this.counters.linesRead.inc({ tenant }, batch.records.length);
    this.counters.bytesRead.inc({ tenant }, batch.bytesRead);
    if (partial > 0) this.counters.partialLines.inc({ tenant }, partial);
    if (oversized > 0) this.counters.oversizedLines.inc({ tenant }, oversized);
    if (invalid > 0) this.counters.invalidUtf8Lines.inc({ tenant }, invalid);
    if (batch.unparsable > 0) this.counters.unparsableLines.inc({ tenant }, batch.unparsable);
  }

  /** Follows new files under the root; marks followed ones whose path now names another file. */
  private async scan(): Promise<void> {
    this.lastScan = Date.now();
    const { files, rotated, skipped } = await discoverLogFiles(this.options.root ?? '/var/log/pods', this.options.filter);
    if (skipped.length > 0) this.logger.debug({ skipped: skipped.slice(0, 10) }, 'paths outside the kubelet layout');
    for (const followed of this.followed.values()) {
      if (!followed.replaced && (await followed.tail.reader.replaced())) {
        followed.replaced = true;
        this.logger.info({ path: followed.tail.path }, 'rotated or deleted: reading it to its end');
      }
    }
    const live = new Set([...this.followed.values()].filter((f) => !f.replaced).map((f) => f.tail.path));
    const candidates = [...files.map((file) => ({ file, rotated: false })), ...rotated.map((file) => ({ file, rotated: true }))];
    for (const { file, rotated: isRotated } of candidates) {
      if (!isRotated && live.has(file.path)) continue;
      let topic: string;
      try {
        topic = tenantNames(file.container.namespace).logsTopic;
      } catch (err) {
        this.logger.warn({ path: file.path, err }, 'not a tenant namespace: skipped');
        continue;
      }
      // A stat first: most candidates of a rescan are rotated files already read to their end,
      // which must not be opened and fingerprinted again every 2 s.
      const stats = await stat(file.path).catch(() => undefined);
      if (!stats) continue;
      const key = `${stats.dev}:${stats.ino}`;
      if (this.followed.has(key)) continue; // already followed, under its old name
      // Unchanged since it was found read to its end (a new file reusing the inode has another mtime).
      const signature = `${key}:${stats.size}:${stats.mtimeMs}`;
      if (isRotated && this.settledRotated.has(signature)) continue;
      const probe = new FileReader(file.path);
      let identity;
      try {
        identity = await probe.open();
      } catch (err) {
        this.logger.warn({ path: file.path, err }, 'cannot open: skipped until the next scan');
        continue;
      }
      await probe.close();
      const saved = this.finished.get(identityKey(identity)) ?? this.saved.get(identityKey(identity));
      const size = stats.size;
      if (isRotated && saved && saved.offset >= size) {
        if (this.settledRotated.size > 10_000) this.settledRotated.clear();
        this.settledRotated.add(signature);
        continue;
      }
      const tail = new FileTail({
        node: this.options.node,
        path: file.path,
        container: file.container,
        offset: saved?.offset ?? 0,
        truncations: saved?.truncations ?? 0,
        ...(this.options.maxLineBytes === undefined ? {} : { maxLineBytes: this.options.maxLineBytes }),
      });
      await tail.reader.open();
      this.followed.set(key, { tail, topic, stream: `${file.container.podUid}/${file.container.container}`, unsent: undefined, acknowledged: saved?.offset ?? 0, failures: 0, retryAt: 0, replaced: isRotated });
      this.logger.info({ path: file.path, from: saved?.offset ?? 0 }, 'following');
    }
  }

  private async forget(followed: Followed): Promise<void> {
    const identity = await followed.tail.reader.fileIdentity();
    this.finished.set(identityKey(identity), { path: followed.tail.path, ...identity, offset: followed.acknowledged, ...(followed.tail.truncationCount ? { truncations: followed.tail.truncationCount } : {}) });
    await followed.tail.close();
    for (const [key, value] of this.followed) if (value === followed) this.followed.delete(key);
    this.dirty = true;
    this.logger.info({ path: followed.tail.path }, 'read to its end and forgotten');
  }

  /** Whether a finished file still exists under a rotated name in its directory (it was renamed after we finished it). */
  private async stillRotated(position: FilePosition): Promise<boolean> {
    const dir = dirname(position.path);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const stats = await stat(join(dir, name)).catch(() => undefined);
      if (stats && stats.ino === position.ino && stats.dev === position.dev) return true;
    }
    return false;
  }

  private async savePositions(): Promise<void> {
    const positions: FilePosition[] = [];
    const next = new Map<string, FilePosition>();
    for (const followed of this.followed.values()) {
      const identity = await followed.tail.reader.fileIdentity();
      const position: FilePosition = { path: followed.tail.path, ...identity, offset: followed.acknowledged, ...(followed.tail.truncationCount ? { truncations: followed.tail.truncationCount } : {}) };
      positions.push(position);
      next.set(identityKey(position), position);
    }
    for (const [key, position] of this.finished) {
      if (next.has(key)) continue; // followed again: its live position is the one that counts
      // Forgotten for good once no file with its identity is left (the kubelet deleted it).
      const stats = await stat(position.path).catch(() => undefined);
      const stillThere = stats !== undefined && stats.ino === position.ino && stats.dev === position.dev;
      if (!stillThere && !(await this.stillRotated(position))) {
        this.finished.delete(key);
        continue;
      }
      positions.push(position);
      next.set(key, position);
    }
    await this.positions.save(positions);
    this.saved = next;
    this.dirty = false;
  }
}

/**
 * kafkajs's default (murmur2, Java-compatible) partitioner, remembered per key and partition
 * count: a node has a few hundred streams, and hashing every line's key again showed in
 * profiles. Same partitions as the default, so per-stream order is the same.
 */
const cachedPartitioner: ICustomPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  const cache = new Map<string, number>();
  return (args) => {
    const key = args.message.key;
    if (key === null || key === undefined) return partition(args);
    const cacheKey = `${args.topic}\u0000${args.partitionMetadata.length}\u0000${String(key)}`;
    let chosen = cache.get(cacheKey);
    if (chosen === undefined) {
      chosen = partition(args);
      if (cache.size > 100_000) cache.clear();
      cache.set(cacheKey, chosen);
    }
    return chosen;
  };
};

function groupInto<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

/** A file's key in the position file: device, inode, and fingerprint when it has one. */
function identityKey(position: Pick<FilePosition, 'dev' | 'ino' | 'fingerprint'>): string {
  return `${position.dev}:${position.ino}:${position.fingerprint}`;
}
