import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { ICustomPartitioner, Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { retryDelay } from '@tributary/retry';
import { createHealthServer, type Readiness } from '@tributary/service';
import { CompressionTypes, createKafka, leanProducePath, Partitioners, PRODUCE_REQUEST_MAX_BYTES } from '@tributary/kafka';
import { tenantNames } from '@tributary/tenant';
import { discoverLogFiles, type LogFilter } from './discovery.js';
import { FileReader, ReadBuffers } from './file-reader.js';
import { ValueBlocks } from './envelope.js';
import { FileTail, type LineCounts, type TailBatch } from './file-tail.js';
import { ForwarderMetrics } from './metrics.js';
import { PositionStore, type FilePosition } from './positions.js';
import { Spool, SpoolCorruptError, type SpoolPeek, type SpoolRecord } from './spool.js';

export interface SpoolSettings {
  /** Bytes of disk the spool may take on this node; default 512 MiB. At the limit, files are no longer read (backpressure). */
  readonly maxBytes?: number;
  /** Bytes one tenant may take, so one tenant's missing topic can't fill it for all; default a quarter of maxBytes. */
  readonly maxBytesPerTenant?: number;
  /** A produce not acknowledged after this long has its records spooled, and reading goes on into the spool; default 2000 ms. */
  readonly afterMs?: number;
}

export interface ForwarderOptions {
  readonly brokers: readonly string[];
  /** The kubelet's pod log root; default `/var/log/pods`. */
  readonly root?: string;
  /** This node's name: part of every id. */
  readonly node: string;
  /** Where the position file and the spool live (a hostPath, so they survive the pod). */
  readonly stateDir: string;
  readonly filter?: LogFilter;
  readonly maxLineBytes?: number;
  /** How often files are read, ms; default 250 (at once again while a file has more to read). */
  readonly pollIntervalMs?: number;
  /** How often the root is listed for new files, and followed files checked for rotation, ms; default 2000. */
  readonly rescanIntervalMs?: number;
  /** Retries of a tenant's spool while Kafka refuses it: jittered exponential backoff. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly spool?: SpoolSettings;
  /** On stop, how long to go on sending what was read and spooled before persisting the rest; default 10 000 ms. */
  readonly shutdownTimeoutMs?: number;
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
  /** Read, and neither acknowledged by Kafka nor spooled yet. */
  batch: TailBatch | undefined;
  /** Its batch is in a produce request now: the file isn't read further until that settles. */
  inFlight: boolean;
  /** Every record before this offset is acknowledged by Kafka or in the spool: what the position file holds. */
  acknowledged: number;
  /** The path names another file now: read this one to its end, then forget it. */
  replaced: boolean;
  /** The last read reached the end of the file (for now). */
  atEnd: boolean;
}

/** One produce request of a tenant's freshly read records, straight to Kafka. */
interface DirectSend {
  readonly files: Followed[];
  readonly records: number;
  readonly startedAt: number;
  /** Resolves true when Kafka acknowledged them, false when it refused. Never rejects. */
  readonly outcome: Promise<boolean>;
  /** Its records were written to the spool too (it took too long, or failed): the spool's copy counts. */
  spooled: boolean;
}

/** Where one tenant's records go: straight to Kafka, or (while Kafka is away, slow or refusing) through the spool. */
interface TopicState {
  readonly topic: string;
  readonly tenant: string;
  /** True from a failed or slow produce until the spool is drained: reads are appended to the spool, in order. */
  spooling: boolean;
  /** Appends decided and not yet done: the spool isn't drained while one is coming. */
  appending: number;
  direct: DirectSend | undefined;
  /** A slow request whose records were spooled: if Kafka took them after all, the drain skips them rather than sending them twice. */
  skip: { readonly outcome: Promise<boolean>; readonly records: number; readonly spooled: Promise<boolean> } | undefined;
  draining: Promise<void> | undefined;
  failures: number;
  /** The spool is at its limit for this tenant: its files aren't read. */
  full: boolean;
}

/** How much of a file one poll reads; also the room a tenant must have in the spool to read on. */
const READ_BYTES = 1024 * 1024;
/** Bytes of spooled records read per drain step. */
const DRAIN_BYTES = PRODUCE_REQUEST_MAX_BYTES;

/**
 * The node forwarder: follows every container log file under the root, reassembles split
 * lines, and produces envelopes to `logs.<namespace>` (idempotent, acks=all, LZ4), one file's
 * records in order. A file's position advances only over records Kafka acknowledged or the
 * spool holds on disk, and is saved atomically; after a crash reading resumes there and
 * re-sent lines keep their ids. While Kafka is away, slow, or refuses a tenant's topic, that
 * tenant's lines go on being read into a bounded on-disk spool, drained in order when Kafka
 * takes them again; at the spool's limit the tenant's files wait unread.
 */
export class Forwarder {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private readonly positions: PositionStore;
  private readonly spool: Spool;
  private readonly followed = new Map<string, Followed>();
  private readonly topics = new Map<string, TopicState>();
  private saved = new Map<string, FilePosition>();
  /** Files read to their end and forgotten, kept in the position file while they exist: a restart must not read them again. */
  private readonly finished = new Map<string, FilePosition>();
  /** Rotated files found read to their end, by device, inode, size and mtime: not opened again while unchanged. */
  private readonly settledRotated = new Set<string>();
  /** Rotated files that look like a copy of a followed file not yet seen truncated: since when. */
  private readonly copiesAwaited = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private lastScan = 0;
  private running = false;
  /** Aborted when stopping's deadline passes: drains and backoffs give up then. */
  private readonly halt = new AbortController();
  private cycle: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private dirty = false;
  private readonly counters = new ForwarderMetrics();
  /** Every file's record values, side by side: a block is freed once Kafka or the spool has all of its records. */
  private readonly values = new ValueBlocks();
  /** Every file's reads land here: files are polled one at a time, and a poll's lines are records before the next. */
  private readonly reads = new ReadBuffers();
  private http: FastifyInstance | undefined;
  private url: string | undefined;
  private ready = false;
  private readonly spoolAfterMs: number;
  private connected = false;
  private connecting: Promise<boolean> | undefined;

  constructor(private readonly options: ForwarderOptions) {
    this.logger = options.logger.child({ component: 'forwarder', node: options.node });
    this.kafka = createKafka({ brokers: options.brokers, clientId: `tributary-forwarder-${options.node}` }, this.logger);
    this.positions = new PositionStore(options.stateDir);
    const maxBytes = options.spool?.maxBytes ?? 512 * 1024 * 1024;
    this.spool = new Spool({ dir: join(options.stateDir, 'spool'), maxBytes, maxBytesPerTopic: options.spool?.maxBytesPerTenant ?? Math.floor(maxBytes / 4) });
    this.spoolAfterMs = options.spool?.afterMs ?? 2000;
    this.counters.spoolLimitBytes.set(maxBytes);
  }

  /** This instance's metrics, served at `/metrics` when a port is set. */
  get metrics(): ForwarderMetrics {
    return this.counters;
  }

  /** The base URL of `/healthz`, `/readyz` and `/metrics`, once started with a `metricsPort`. */
  get metricsAddress(): string | undefined {
    return this.url;
  }

  /** Bytes in the spool now, every tenant together. */
  get spooledBytes(): number {
    return this.spool.bytes;
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
    for (const recovery of await this.spool.open()) this.logger.warn(recovery, 'spool repaired: the end of a segment was cut off');
    // Same bytes either way; kafkajs's own path costs about twice the CPU per line (bench/forwarder.ts).
    if (!leanProducePath.grouping || !leanProducePath.request) this.logger.warn({ leanProducePath }, 'kafkajs was loaded before @tributary/kafka: producing through kafkajs’s own slower encoding');
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: cachedPartitioner });
    // Kafka away at start is what the spool is for: connecting is tried again before every send.
    if (!(await this.connect())) this.logger.warn('Kafka not reachable at start: reading into the spool until it is');
    this.running = true;
    // What a previous run spooled goes first: its tenants' new lines queue behind it.
    for (const topic of this.spool.spooledTopics()) this.startSpooling(this.topicState(topic), 'spooled by a previous run');
    await this.scan();
    this.ready = true;
    this.schedule(0);
  }

  /** Files followed now. */
  get files(): number {
    return this.followed.size;
  }

  /** Runs one read-and-produce pass now (tests; the timer runs them otherwise). */
  async runOnce(): Promise<void> {
    this.cycle = this.cycle.then(() => this.pass()).then(() => undefined);
    await this.cycle;
  }

  /**
   * Stops reading; goes on sending what was read and spooled until everything is
   * acknowledged or `shutdownTimeoutMs` passes; spools what is still unacknowledged; saves
   * positions. Nothing read is then only in memory.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + (this.options.shutdownTimeoutMs ?? 10_000);
    await this.cycle.catch(() => undefined);
    const directs = [...this.topics.values()].flatMap((state) => (state.direct ? [{ state, direct: state.direct }] : []));
    await within(Promise.all(directs.map(({ direct }) => direct.outcome)), deadline - Date.now());
    for (const { state, direct } of directs) if (state.direct === direct && !direct.spooled) await this.spoolDirect(state, direct, 'stopping');
    // Read and not handed on (a spool append that failed): one more try, else a restart reads them again.
    for (const [topic, files] of groupBy([...this.followed.values()].filter((f) => f.batch && !f.inFlight), (f) => f.topic)) await this.toSpool(this.topicState(topic), files);
    await within(Promise.all([...this.topics.values()].map((state) => state.draining)), deadline - Date.now());
    this.halt.abort();
    await this.savePositions();
    for (const followed of this.followed.values()) await followed.tail.close();
    await this.spool.close();
    const left = this.spool.bytes;
    if (left > 0) this.logger.warn({ bytes: left, tenants: this.spool.spooledTopics().map(tenantOf) }, 'stopped with records spooled: sent first after the restart');
    await within(this.producer?.disconnect() ?? Promise.resolve(), 5000);
    await this.http?.close();
  }

  private schedule(delayMs = this.options.pollIntervalMs ?? 250): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      let more = false;
      this.cycle = this.cycle
        .then(() => this.pass())
        .then(
          (backlog) => void (more = backlog),
          (err: unknown) => this.logger.error({ err }, 'forwarding pass failed'),
        );
      // A file with more to read is read again at once, not after the poll interval.
      void this.cycle.finally(() => this.schedule(more ? 0 : undefined));
    }, delayMs);
  }

  /** One pass: reads every file that may be read, hands its records on, and saves positions. True when a file has more to read. */
  private async pass(): Promise<boolean> {
    if (Date.now() - this.lastScan >= (this.options.rescanIntervalMs ?? 2000)) await this.scan();
    const toSend = new Map<string, Followed[]>();
    const toSpool = new Map<string, Followed[]>();
    let backlog = false;
    for (const followed of await this.inStreamOrder()) {
      if (followed.inFlight) continue;
      const state = this.topicState(followed.topic);
      if (!followed.batch) {
        if (state.spooling && !this.spool.hasRoom(followed.topic, READ_BYTES)) {
          this.spoolFull(state);
          continue;
        }
        if (!state.spooling && state.direct) continue; // one request per tenant at a time
        const batch = await followed.tail.poll();
        // Truncated in place: look for the copy (its unread end goes first) before reading on.
        if (batch.truncated) this.lastScan = 0;
        const drained = followed.replaced && batch.atEnd ? await followed.tail.drain() : undefined;
        followed.batch = drained ? { ...batch, records: [...batch.records, ...drained.records], counts: addCounts(batch.counts, drained.counts), checkpoint: drained.checkpoint } : batch;
        if (batch.unparsable > 0) this.logger.warn({ path: followed.tail.path, lines: batch.unparsable }, 'lines not in the file’s format: shipped as their raw text');
        this.count(followed, followed.batch);
        followed.atEnd = batch.atEnd;
        if (!batch.atEnd) backlog = true;
        if (followed.batch.records.length === 0) {
          // Nothing to send (a partial line waits for its end): the checkpoint stands as it is.
          this.acknowledge(followed, followed.batch.checkpoint);
          followed.batch = undefined;
          continue;
        }
      }
      groupInto(state.spooling ? toSpool : toSend, followed.topic, followed);
    }
    for (const state of this.topics.values()) if (state.full && this.spool.hasRoom(state.topic, READ_BYTES)) this.spoolRoom(state);
    for (const [topic, files] of toSpool) await this.toSpool(this.topicState(topic), files);
    const sends: Array<Promise<boolean>> = [];
    for (const [topic, files] of toSend) {
      const state = this.topicState(topic);
      if (state.spooling) await this.toSpool(state, files); // spooling began while these were read
      else if (!state.direct) sends.push(this.send(state, files));
    }
    // Waits for the requests, but not for long: a request Kafka takes longer than that over
    // has its records spooled, and its tenant's lines go on being read into the spool.
    await within(Promise.all(sends), this.spoolAfterMs);
    for (const state of this.topics.values()) {
      if (state.direct && !state.direct.spooled && Date.now() - state.direct.startedAt >= this.spoolAfterMs) await this.spoolDirect(state, state.direct, 'Kafka is slow to acknowledge');
    }
    for (const followed of [...this.followed.values()]) {
      // Only once read to its end: its handle is the only way to what the kubelet may have deleted.
      if (followed.replaced && followed.atEnd && !followed.batch && !followed.inFlight) await this.forget(followed);
    }
    await this.gauges();
    if (this.dirty) await this.savePositions();
    return backlog;
  }

  /** Produces freshly read records of one tenant; on failure they go to the spool, and so does what is read after them. */
  private send(state: TopicState, files: Followed[]): Promise<boolean> {
    const messages: Message[] = [];
    for (const followed of files) {
      followed.inFlight = true;
      // A record is a kafkajs message as it is (key and value; kafkajs reads nothing else of it).
      for (const record of (followed.batch as TailBatch).records) messages.push(record);
    }
    const outcome = this.produce(state, messages);
    const direct: DirectSend = { files, records: messages.length, startedAt: Date.now(), outcome, spooled: false };
    state.direct = direct;
    return outcome.then(async (delivered) => {
      if (state.direct === direct) state.direct = undefined;
      if (direct.spooled) return delivered; // the spool's copy counts now
      if (!delivered) {
        await this.spoolDirect(state, direct, 'Kafka refused or is unreachable');
        return false;
      }
      this.counters.recordsProduced.inc({ tenant: state.tenant }, messages.length);
      for (const followed of files) {
        followed.inFlight = false;
        this.acknowledge(followed, (followed.batch as TailBatch).checkpoint);
        followed.batch = undefined;
      }
      return true;
    });
  }

  /**
   * Connects the producer, once at a time; false while Kafka is unreachable. A kafkajs
   * idempotent producer gets its producer id only in a `connect()` that succeeds: sending
   * before that never works, so nothing is sent before it.
   */
  private connect(): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    this.connecting ??= (this.producer as Producer)
      .connect()
      .then(
        () => (this.connected = true),
        (err: unknown) => {
          this.logger.debug({ err }, 'cannot connect to Kafka yet');
          return false;
        },
      )
      .finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Produces `messages` to the tenant's topic; resolves whether Kafka acknowledged them all. Failures are counted and logged, never thrown. */
  private async produce(state: TopicState, messages: Message[]): Promise<boolean> {
    if (messages.length === 0) return true;
    if (!(await this.connect())) {
      this.counters.produceErrors.inc({ tenant: state.tenant });
      return false;
    }
    try {
      // In requests small enough that each partition's batch is under the topic's limit even
      // when the records don't compress; in order, one after the other.
      for (const request of requests(messages)) await (this.producer as Producer).send({ topic: state.topic, acks: -1, compression: CompressionTypes.LZ4, messages: request });
      return true;
    } catch (err) {
      this.counters.produceErrors.inc({ tenant: state.tenant });
      this.logger.warn({ err, topic: state.topic, records: messages.length, failures: state.failures }, 'could not produce: spooling and retrying (a missing tenant topic is created by the control plane)');
      return false;
    }
  }

  /** Moves a request's records to the spool (it failed or is too slow), and the tenant into spooling. */
  private async spoolDirect(state: TopicState, direct: DirectSend, reason: string): Promise<void> {
    direct.spooled = true;
    if (state.direct === direct) state.direct = undefined;
    let spooled!: (ok: boolean) => void;
    // Set before the append, so the drain waits for it: these records come before anything spooled after them.
    state.skip = { outcome: direct.outcome, records: direct.records, spooled: new Promise<boolean>((resolve) => (spooled = resolve)) };
    this.startSpooling(state, reason);
    const ok = await this.toSpool(state, direct.files);
    spooled(ok);
  }

  /** Appends the read batches of `files` to the tenant's spool; their positions advance once it is on disk. */
  private async toSpool(state: TopicState, files: Followed[]): Promise<boolean> {
    state.appending++;
    try {
      const records: SpoolRecord[] = [];
      for (const followed of files) for (const { key, value } of (followed.batch as TailBatch).records) records.push({ key, value });
      await this.spool.append(state.topic, records);
      this.counters.spooledRecords.inc({ tenant: state.tenant }, records.length);
      for (const followed of files) {
        this.acknowledge(followed, (followed.batch as TailBatch).checkpoint);
        followed.batch = undefined;
      }
      return true;
    } catch (err) {
      // The disk is full or failing: the batches stay in memory and are tried again; their
      // files aren't read on meanwhile and their positions don't move.
      this.logger.error({ err, topic: state.topic }, 'cannot write the spool: retrying');
      return false;
    } finally {
      for (const followed of files) followed.inFlight = false;
      state.appending--;
    }
  }

  private startSpooling(state: TopicState, reason: string): void {
    state.spooling = true;
    if (state.draining) return;
    this.logger.warn({ tenant: state.tenant, reason }, 'spooling: lines go on being read into the on-disk spool until Kafka takes them');
    state.draining = this.drain(state)
      .catch((err: unknown) => this.logger.error({ err, tenant: state.tenant }, 'draining the spool failed'))
      .finally(() => (state.draining = undefined));
  }

  /**
   * Sends a tenant's spool to Kafka, oldest first, committing what is acknowledged; retries
   * with backoff while Kafka refuses. Once the spool is empty with nothing more coming, the
   * tenant's records go straight to Kafka again.
   */
  private async drain(state: TopicState): Promise<void> {
    const backoff = this.options.backoff ?? { initialMs: 200, maxMs: 5000 };
    while (!this.halt.signal.aborted) {
      if (state.skip) {
        const skip = state.skip;
        const [delivered, spooled] = [await skip.outcome, await skip.spooled];
        if (state.skip === skip) state.skip = undefined;
        if (delivered && spooled) {
          // Kafka took the slow request after all: its copy at the spool's head isn't sent again.
          const peeked = await this.spool.peek(state.topic, Number.POSITIVE_INFINITY, skip.records);
          await this.spool.commit(state.topic, peeked.next);
          this.counters.recordsProduced.inc({ tenant: state.tenant }, skip.records);
        }
        continue;
      }
      let peeked: SpoolPeek;
      try {
        peeked = await this.spool.peek(state.topic, DRAIN_BYTES);
      } catch (err) {
        if (!(err instanceof SpoolCorruptError)) throw err;
        this.logger.error({ err }, 'spool damaged on disk: the records before the damage are sent, the damaged bytes skipped');
        this.counters.spoolCorruptBytes.inc(err.skippedBytes);
        peeked = err.peeked;
      }
      this.counters.spoolOldest.set({ tenant: state.tenant }, peeked.oldestAt === undefined ? 0 : (Date.now() - peeked.oldestAt) / 1000);
      if (peeked.records.length === 0) {
        if (peeked.bytes > 0) await this.spool.commit(state.topic, peeked.next);
        else if (state.appending === 0 && this.spool.isEmpty(state.topic) && !state.skip) {
          state.spooling = false;
          state.failures = 0;
          this.counters.spoolOldest.set({ tenant: state.tenant }, 0);
          this.logger.info({ tenant: state.tenant }, 'spool drained: lines go straight to Kafka again');
          return;
        } else await sleep(20, this.halt.signal);
        continue;
      }
      const messages = peeked.records.map(({ key, value }) => ({ key, value }));
      if (!(await this.produce(state, messages))) {
        state.failures++;
        await sleep(retryDelay(state.failures, backoff), this.halt.signal);
        continue;
      }
      state.failures = 0;
      if (this.halt.signal.aborted) return; // stopped while sending: the head stays, and they go again (same ids)
      await this.spool.commit(state.topic, peeked.next);
      this.counters.recordsProduced.inc({ tenant: state.tenant }, messages.length);
    }
  }

  private spoolFull(state: TopicState): void {
    if (state.full) return;
    state.full = true;
    this.counters.spoolFull.set({ tenant: state.tenant }, 1);
    this.logger.warn({ tenant: state.tenant, spooledBytes: this.spool.bytesOf(state.topic), totalBytes: this.spool.bytes, limitBytes: this.spool.maxBytes }, 'spool full: this tenant’s files are not read until Kafka takes what is spooled (their lines wait in the files)');
  }

  private spoolRoom(state: TopicState): void {
    state.full = false;
    this.counters.spoolFull.set({ tenant: state.tenant }, 0);
    this.logger.info({ tenant: state.tenant }, 'spool has room again: reading on');
  }

  private topicState(topic: string): TopicState {
    let state = this.topics.get(topic);
    if (!state) {
      state = { topic, tenant: tenantOf(topic), spooling: false, appending: 0, direct: undefined, skip: undefined, draining: undefined, failures: 0, full: false };
      this.topics.set(topic, state);
    }
    return state;
  }

  private acknowledge(followed: Followed, checkpoint: number): void {
    if (checkpoint === followed.acknowledged) return;
    followed.acknowledged = checkpoint;
    this.dirty = true;
  }

  private async gauges(): Promise<void> {
    this.counters.filesFollowed.set(this.followed.size);
    let unacknowledged = 0;
    for (const followed of this.followed.values()) unacknowledged += Math.max(0, ((await followed.tail.reader.size()) ?? 0) - followed.acknowledged);
    this.counters.unacknowledgedBytes.set(unacknowledged);
    for (const state of this.topics.values()) {
      this.counters.spoolBytes.set({ tenant: state.tenant }, this.spool.bytesOf(state.topic));
      // Every tenant has the series, at 0 while nothing is spooled: dashboards and alerts
      // see "nothing waiting", not "no data". The drain sets it while spooling.
      if (!state.spooling) this.counters.spoolOldest.set({ tenant: state.tenant }, 0);
      this.counters.spoolFull.set({ tenant: state.tenant }, state.full ? 1 : 0);
    }
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

  /** Counts what one poll read, by tenant. */
  private count(followed: Followed, batch: TailBatch): void {
    const tenant = tenantOf(followed.topic);
    const { partial, oversized, invalidUtf8, truncated } = batch.counts;
    this.counters.linesRead.inc({ tenant }, batch.records.length);
    this.counters.bytesRead.inc({ tenant }, batch.bytesRead);
    if (partial > 0) this.counters.partialLines.inc({ tenant }, partial);
    if (oversized > 0) this.counters.oversizedLines.inc({ tenant }, oversized);
    if (invalidUtf8 > 0) this.counters.invalidUtf8Lines.inc({ tenant }, invalidUtf8);
    if (truncated > 0) this.counters.truncatedRecords.inc({ tenant }, truncated);
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
      let offset = saved?.offset ?? 0;
      if (isRotated && !saved) {
        // A file never seen may be logrotate's copy of a file then truncated in place: what of
        // it was read before the truncation isn't read again.
        const origin = await this.copyOrigin(file.path, identity.fingerprint, signature);
        if (origin === 'wait') continue;
        if (origin !== undefined) {
          offset = Math.min(origin, size);
          this.logger.info({ path: file.path, from: offset }, 'a copy of a file truncated in place (copytruncate): reading its unread end');
        }
      }
      if (isRotated && saved && saved.offset >= size) {
        if (this.settledRotated.size > 10_000) this.settledRotated.clear();
        this.settledRotated.add(signature);
        continue;
      }
      const tail = new FileTail({
        node: this.options.node,
        path: file.path,
        container: file.container,
        offset,
        truncations: saved?.truncations ?? 0,
        values: this.values,
        reads: this.reads,
        ...(saved?.truncatedFrom ? { truncatedFrom: saved.truncatedFrom } : {}),
        ...(this.options.maxLineBytes === undefined ? {} : { maxLineBytes: this.options.maxLineBytes }),
      });
      await tail.reader.open();
      this.followed.set(key, { tail, topic, stream: `${file.container.podUid}/${file.container.container}`, batch: undefined, inFlight: false, acknowledged: offset, replaced: isRotated, atEnd: false });
      if (offset !== 0) this.dirty = true;
      this.logger.info({ path: file.path, from: offset }, 'following');
    }
  }

  /**
   * When a rotated file never seen is logrotate's copy of a followed file that was then
   * truncated in place (same first line as what that file held): the offset it had been read
   * to. 'wait' while the original isn't found truncated yet (the copy is made first), for
   * at most 10 s.
   */
  private async copyOrigin(path: string, fingerprint: string, signature: string): Promise<number | 'wait' | undefined> {
    if (fingerprint === '') return undefined;
    const dir = dirname(path);
    for (const followed of this.followed.values()) {
      if (followed.replaced || dirname(followed.tail.path) !== dir) continue;
      const truncation = followed.tail.reader.lastTruncation;
      if (truncation?.fingerprint === fingerprint) return truncation.offset;
    }
    for (const position of this.saved.values()) {
      if (dirname(position.path) === dir && position.truncatedFrom?.fingerprint === fingerprint) return position.truncatedFrom.offset;
    }
    let live = false;
    for (const followed of this.followed.values()) {
      if (!followed.replaced && dirname(followed.tail.path) === dir && (await followed.tail.reader.fileIdentity()).fingerprint === fingerprint) live = true;
    }
    if (!live) return undefined;
    const since = this.copiesAwaited.get(signature) ?? Date.now();
    this.copiesAwaited.set(signature, since);
    if (this.copiesAwaited.size > 1000) this.copiesAwaited.clear();
    return Date.now() - since < 10_000 ? 'wait' : undefined;
  }

  private async forget(followed: Followed): Promise<void> {
    const identity = await followed.tail.reader.fileIdentity();
    this.finished.set(identityKey(identity), positionOf(followed, identity));
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
      const position = positionOf(followed, identity);
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
  // Per topic (and its partition count) a map of key → partition: no string built per message
  // to look it up. A key is a string (read back from the spool) or the one buffer a followed
  // file gives all its records (FileTail): looked up by identity, so hashed once per file.
  const cache = new Map<string, { partitions: number; byKey: Map<string | Buffer, number> }>();
  return (args) => {
    const key = args.message.key;
    if (typeof key !== 'string' && !Buffer.isBuffer(key)) return partition(args);
    let topic = cache.get(args.topic);
    if (!topic || topic.partitions !== args.partitionMetadata.length) {
      if (cache.size > 10_000) cache.clear();
      topic = { partitions: args.partitionMetadata.length, byKey: new Map() };
      cache.set(args.topic, topic);
    }
    let chosen = topic.byKey.get(key);
    if (chosen === undefined) {
      chosen = partition(args);
      if (topic.byKey.size > 100_000) topic.byKey.clear();
      topic.byKey.set(key, chosen);
    }
    return chosen;
  };
};

function addCounts(a: LineCounts, b: LineCounts): LineCounts {
  return { partial: a.partial + b.partial, oversized: a.oversized + b.oversized, invalidUtf8: a.invalidUtf8 + b.invalidUtf8, truncated: a.truncated + b.truncated };
}

function groupInto<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

/** A file's key in the position file: device, inode, and fingerprint when it has one. */
function identityKey(position: Pick<FilePosition, 'dev' | 'ino' | 'fingerprint'>): string {
  return `${position.dev}:${position.ino}:${position.fingerprint}`;
}

function groupBy<V>(values: Iterable<V>, keyOf: (value: V) => string): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const value of values) groupInto(groups, keyOf(value), value);
  return groups;
}

function tenantOf(topic: string): string {
  return topic.slice('logs.'.length);
}

/** Waits for `work`, or `ms`, whichever comes first; never rejects. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}

/** Sleeps `ms`, or less when `signal` aborts; never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleepFor(ms, undefined, { signal }).catch(() => undefined);
}

/** What the position file holds for a followed file. */
function positionOf(followed: Followed, identity: { dev: number; ino: number; fingerprint: string }): FilePosition {
  const truncatedFrom = followed.tail.reader.lastTruncation;
  return {
    path: followed.tail.path,
    ...identity,
    offset: followed.acknowledged,
    ...(followed.tail.truncationCount ? { truncations: followed.tail.truncationCount } : {}),
    ...(truncatedFrom ? { truncatedFrom } : {}),
  };
}

/** Messages cut into produce requests of at most PRODUCE_REQUEST_MAX_BYTES of values (at least one message each). */
function* requests(messages: Message[]): Generator<Message[]> {
  let request: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = (message.value as Buffer).length;
    if (request.length > 0 && bytes + size > PRODUCE_REQUEST_MAX_BYTES) {
      yield request;
      request = [];
      bytes = 0;
    }
    request.push(message);
    bytes += size;
  }
  if (request.length > 0) yield request;
}
