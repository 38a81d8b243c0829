/**
 * End-to-end figures of one processor (`tributary processor`, in its own process, as it
 * ships): realistic container-log envelopes on `logs.<tenant>` (6 partitions, LZ4) through
 * the tenant's pipeline into Elasticsearch, against the raw ceiling of bulking the same
 * documents straight into Elasticsearch; the processor's CPU per record and RSS, and
 * produce→searchable latency of a trickle and at the seed's load (2.9 MB/s).
 *
 *   npx tsx bench/processor.ts [records=200000]
 *
 * Starts Kafka and Elasticsearch (or uses KAFKA_BROKERS / ELASTICSEARCH_URL) and stops
 * them at the end. Targets (issue): end-to-end ≥ 0.9 × raw bulk; p99 produce→searchable ≤ 2 s.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';
import { pino } from 'pino';
import type { Client } from '@elastic/elasticsearch';
import { ControlPlane } from '@tributary/control-plane';
import { bulkWrite, createElasticsearch, type BulkItem } from '@tributary/elasticsearch';
import { decodeEnvelope, encodeEnvelope, fileEnvelopeId, type Envelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { checkManifests, serializeDocument, type PipelineProgram } from '@tributary/pipeline';
import { prng, startEngines, type EngineInfo } from '@tributary/testkit';
import { benchManifest } from './manifest.js';

// Not every kafkajs export is visible to ESM's static analysis of CommonJS: read it off the module.
const { CompressionTypes } = kafkajs;

const records = Number(process.argv[2] ?? 200_000);
if (!Number.isSafeInteger(records) || records < 1) {
  console.error(`usage: npx tsx bench/processor.ts [records=200000]  (got ${process.argv[2]})`);
  process.exit(2);
}
const command = `npx tsx bench/processor.ts ${records}`;
const PARTITIONS = 6;
const PRODUCE_BATCH = 1000;
const RAW_BATCH = 2000;
const RAW_IN_FLIGHT = 4;
/** Documents bulked into a throwaway index before the measured phases. */
const WARM_UP = 100_000;
const TRICKLE = 200;
const TRICKLE_PER_SECOND = 50;
/** The seed's load: 250 GB/day. */
const SEED_BYTES_PER_SECOND = 250e9 / 86_400;
const SEED_SECONDS = 30;
/** Records of each 100 ms send at the seed's load whose latency is measured. */
const SEED_SAMPLES_PER_SEND = 2;
const CLI = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const ADMIN_TOKEN = 'bench-admin-token';
const PIPELINE = 'checkout-api';

const tenant = `bench-${Math.random().toString(16).slice(2, 10)}`;
const logger = pino({ level: 'silent' });
const format = (n: number): string => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line: string): void => console.log(`[bench] ${line}`);

const MANIFEST = benchManifest(tenant, PIPELINE);

process.on('unhandledRejection', (err) => {
  console.error('[bench] unhandled rejection:', err);
  process.exitCode = 1;
});

// ---------------------------------------------------------------------------------------
// Realistic container log lines: a web service's JSON, varied in size (≈250–400 bytes),
// 12 % debug (dropped by the pipeline), a card number in some, a password now and then.


const PODS = 48;
const pods = Array.from({ length: PODS }, (_, p) => ({
  node: `ip-10-42-${p % 6}-17.eu-west-1.compute.internal`,
  pod: `checkout-api-7f9c5d${(p * 7919).toString(16).padStart(4, '0')}-${(p * 104729).toString(36).slice(0, 5)}`,
  uid: `6f1c${p.toString(16).padStart(4, '0')}-0d3e-4a8b-9c51-2b7e${String(p).padStart(8, '0')}`,
  offset: 0,
}));
const PATHS = ['/api/cart', '/api/checkout', '/api/orders/{id}', '/api/payments/authorize', '/api/products/search', '/healthz'];
const METHODS = ['GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'okhttp/4.12.0',
  'checkout-worker/2.14.1 (+grpc-node)',
];
const hex = (random: () => number, length: number): string => {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
};

function logLine(random: () => number, at: Date, nanos: number, i: number): Record<string, unknown> {
  const time = `${at.toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
  const r = random();
  const level = r < 0.12 ? 'debug' : r < 0.82 ? 'info' : r < 0.92 ? 'warn' : 'error';
  const path = (PATHS[Math.floor(random() * PATHS.length)] as string).replace('{id}', String(10_000 + Math.floor(random() * 90_000)));
  const method = METHODS[Math.floor(random() * METHODS.length)] as string;
  if (level === 'debug') {
    return { time, level, logger: 'cache', msg: `cache ${random() < 0.5 ? 'miss' : 'hit'} for key cart:${Math.floor(random() * 1e6)}`, path, trace_id: hex(random, 32), span_id: hex(random, 16) };
  }
  const status = level === 'error' ? 500 + Math.floor(random() * 4) : level === 'warn' ? 400 + Math.floor(random() * 30) : random() < 0.9 ? 200 : 201;
  const card = random() < 0.06;
  const line: Record<string, unknown> = {
    time,
    level,
    logger: 'http',
    msg: card ? `payment with card 4111 1111 1111 ${String(1000 + (i % 9000))} declined for order ${i}` : `handled request ${method} ${path}`,
    method,
    path,
    status,
    duration_ms: Math.round(random() * 25_000) / 100,
    bytes: Math.floor(random() * 20_000),
    remote_addr: `10.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}`,
  };
  if (random() < 0.7) line['user_agent'] = AGENTS[Math.floor(random() * AGENTS.length)];
  line['request_id'] = `req-${hex(random, 20)}`;
  line['trace_id'] = hex(random, 32);
  line['span_id'] = hex(random, 16);
  if (random() < 0.03) line['password'] = 'hunter2';
  if (level === 'error') line['error'] = { type: 'UpstreamTimeout', message: 'payments-gateway did not answer within 2000ms' };
  return line;
}

function envelopeFor(random: () => number, i: number, at: Date, nanos: number, line: Record<string, unknown>): { key: string; envelope: Envelope } {
  const p = pods[i % PODS] as (typeof pods)[number];
  const message = JSON.stringify(line);
  const logPath = `/var/log/pods/${tenant}_${p.pod}_${p.uid}/api/0.log`;
  const envelope: Envelope = {
    id: fileEnvelopeId(p.node, `${p.uid}/api/0.log`, p.offset),
    time: `${at.toISOString().slice(0, 19)}.${String(nanos + Math.floor(random() * 1000)).padStart(9, '0').slice(0, 9)}Z`,
    stream: 'stdout',
    message,
    source: { kind: 'file', node: p.node, path: logPath, offset: p.offset },
    kubernetes: { namespace: tenant, pod: p.pod, pod_uid: p.uid, container: 'api', labels: { app: 'checkout-api', 'pod-template-hash': '7f9c5d' } },
  };
  p.offset += message.length + 40; // the CRI prefix and newline, roughly
  return { key: `${p.uid}/api`, envelope };
}

interface Generated {
  readonly messages: Message[];
  readonly valueBytes: number;
  readonly lineBytes: number;
  /** What the pipeline makes of them, computed here: the raw ceiling's input and the expected count. */
  readonly documents: Array<{ id: string; index: string; body: string }>;
  readonly documentBytes: number;
  readonly dropped: number;
}

async function generate(count: number, program: PipelineProgram): Promise<Generated> {
  const random = prng(20261125);
  const base = Date.UTC(2026, 10, 25, 10, 0, 0);
  const messages: Message[] = [];
  const documents: Array<{ id: string; index: string; body: string }> = [];
  let valueBytes = 0;
  let lineBytes = 0;
  let documentBytes = 0;
  let dropped = 0;
  for (let i = 0; i < count; i++) {
    const at = new Date(base + Math.floor(i * 2.5)); // 400 lines/s: the whole run stays within one day
    const nanos = Math.floor(random() * 1e9);
    const line = logLine(random, at, nanos, i);
    const { key, envelope } = envelopeFor(random, i, at, nanos, line);
    const value = encodeEnvelope(envelope);
    messages.push({ key, value });
    valueBytes += value.length;
    lineBytes += envelope.message.length;
    // Exactly what the processor does with the record: decode, run, serialize.
    const decoded = await decodeEnvelope(value);
    if (!decoded.ok) throw new Error(`generated an envelope that does not decode: ${decoded.reason}`);
    const outcome = program.run(decoded.envelope);
    if (outcome.kind === 'drop') {
      dropped++;
      continue;
    }
    if (outcome.kind === 'deadLetter') throw new Error(`generated a record the pipeline dead-letters: ${outcome.step}: ${outcome.message}`);
    const encoded = serializeDocument(outcome.document);
    if (!encoded.ok) throw new Error(`generated a document over budget: ${encoded.message}`);
    documents.push({ id: decoded.envelope.id, index: outcome.index, body: encoded.body });
    documentBytes += encoded.body.length;
  }
  return { messages, valueBytes, lineBytes, documents, documentBytes, dropped };
}

// ---------------------------------------------------------------------------------------
// Elasticsearch helpers

async function countDocuments(es: Client, index: string): Promise<number> {
  await es.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const { count } = await es.count({ index, ignore_unavailable: true, allow_no_indices: true });
  return count;
}

/** Polls refresh + _count every 500 ms until `expected`; when the first document showed and when all did. */
async function waitForCount(es: Client, index: string, expected: number, timeoutMs: number, since: number): Promise<{ firstAt: number | undefined; doneAt: number }> {
  const deadline = since + timeoutMs;
  let firstAt: number | undefined;
  let seen = 0;
  let lastError = '';
  for (;;) {
    try {
      seen = await countDocuments(es, index);
      lastError = '';
    } catch (err) {
      lastError = ` (last poll failed: ${(err as Error).message})`;
    }
    const now = Date.now();
    if (seen > 0 && firstAt === undefined) firstAt = now;
    if (seen >= expected) {
      if (seen > expected) throw new Error(`${seen} documents in ${index}, expected ${expected}: more than the pipeline should have produced`);
      return { firstAt, doneAt: now };
    }
    if (now > deadline) throw new Error(`only ${seen} of ${expected} documents in ${index} after ${seconds(now - since)}${lastError}`);
    await sleep(500);
  }
}

interface IndexWork {
  readonly bulks: number;
  readonly bulkMs: number;
  readonly indexingMs: number;
  readonly refreshes: number;
  readonly refreshMs: number;
  readonly merges: number;
  readonly mergeMs: number;
}

/** Elasticsearch's own account of the work an index cost (one shard: one bulk operation per request). */
async function indexWork(es: Client, index: string): Promise<IndexWork | undefined> {
  const stats = await es.indices.stats({ index, metric: ['bulk', 'indexing', 'refresh', 'merge'] }).catch(() => undefined);
  const p = stats?._all.primaries;
  if (!p?.bulk) return undefined;
  return {
    bulks: p.bulk.total_operations,
    bulkMs: Number(p.bulk.total_time_in_millis),
    indexingMs: Number(p.indexing?.index_time_in_millis ?? 0),
    refreshes: p.refresh?.total ?? 0,
    refreshMs: Number(p.refresh?.total_time_in_millis ?? 0),
    merges: p.merges?.total ?? 0,
    mergeMs: Number(p.merges?.total_time_in_millis ?? 0),
  };
}

// ---------------------------------------------------------------------------------------
// CPU of the local engines (their process groups, from /proc), to see where a phase's time goes.

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds so far of every process in each local engine's process group; nothing for other modes. */
function engineCpu(engines: readonly EngineInfo[]): Map<string, number> {
  const groups = new Map<number, string>();
  for (const e of engines) if (e.pid !== undefined) groups.set(e.pid, e.name);
  const totals = new Map<string, number>();
  if (groups.size === 0) return totals;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = groups.get(Number(fields[2]));
      if (name === undefined) continue;
      totals.set(name, (totals.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // the process ended while we looked
    }
  }
  return totals;
}

/** Busy CPU seconds of the whole machine so far (/proc/stat), every core together. */
function machineBusy(): number {
  try {
    const [, ...ticks] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

interface CpuSample {
  readonly at: number;
  readonly engines: Map<string, number>;
  readonly self: NodeJS.CpuUsage;
  readonly machine: number;
}

function sampleCpu(engines: readonly EngineInfo[]): CpuSample {
  return { at: Date.now(), engines: engineCpu(engines), self: process.cpuUsage(), machine: machineBusy() };
}

/**
 * Where a phase's CPU went: each local engine, this node process, and everything else on the
 * machine (another test run sharing it shows up there), as seconds and share of one core.
 */
function cpuBetween(before: CpuSample, after: CpuSample, processorSeconds = 0): { text: string; others: number } {
  const wall = (after.at - before.at) / 1000;
  const share = (used: number): string => `${used.toFixed(1)} s (${Math.round((used / wall) * 100)} %)`;
  const parts: string[] = [];
  let accounted = 0;
  for (const [name, total] of after.engines) {
    const used = total - (before.engines.get(name) ?? 0);
    accounted += used;
    parts.push(`${name} ${share(used)}`);
  }
  const self = (after.self.user - before.self.user + after.self.system - before.self.system) / 1e6;
  if (processorSeconds > 0) parts.push(`processor ${share(processorSeconds)}`);
  parts.push(`bench process ${share(self)}`);
  const others = after.engines.size > 0 ? Math.max(0, after.machine - before.machine - accounted - self - processorSeconds) : Number.NaN;
  parts.push(Number.isNaN(others) ? 'others n/a (engines not local)' : `others ${share(others)}`);
  return { text: parts.join(', '), others: others / wall };
}

/** Wildcard deletes are refused (action.destructive_requires_name): resolve, then delete by name. */
async function deleteIndices(es: Client, pattern: string): Promise<string[]> {
  const found = await es.indices.get({ index: pattern, ignore_unavailable: true, allow_no_indices: true });
  const names = Object.keys(found);
  if (names.length > 0) await es.indices.delete({ index: names });
  return names;
}

/** Bulks `items` in batches of RAW_BATCH, RAW_IN_FLIGHT requests at a time; resends what Elasticsearch asks to retry. */
async function bulkAll(es: Client, items: readonly BulkItem[]): Promise<{ retried: number }> {
  let next = 0;
  let retried = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const start = next;
      if (start >= items.length) return;
      next += RAW_BATCH;
      let pending = items.slice(start, start + RAW_BATCH);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 20) throw new Error(`raw bulk: ${pending.length} documents still refused for retry after 20 attempts`);
        const results = await bulkWrite(es, pending);
        const again: BulkItem[] = [];
        results.forEach((result, k) => {
          if (result.status === 'stored') return;
          if (result.status === 'rejected') throw new Error(`raw bulk: Elasticsearch refused a document: ${result.reason}`);
          again.push(pending[k] as BulkItem);
        });
        retried += again.length;
        pending = again;
        if (again.length > 0) await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: RAW_IN_FLIGHT }, worker));
  return { retried };
}

// ---------------------------------------------------------------------------------------
// Phases

async function produceAll(producer: Producer, topic: string, messages: readonly Message[]): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < messages.length; i += PRODUCE_BATCH) {
    await producer.send({ topic, acks: -1, compression: CompressionTypes.LZ4, messages: messages.slice(i, i + PRODUCE_BATCH) });
  }
  return Date.now() - started;
}

/**
 * Every 100 ms, searches for the ids in `sentAt` and moves each one found into `latencies`
 * (now − sent), until sending is over and every id was found; fails 60 s after the last send.
 */
async function untilSearchable(es: Client, index: string, sentAt: Map<string, number>, latencies: number[], sending: () => boolean, what: string): Promise<void> {
  let lastSendDone = Number.POSITIVE_INFINITY;
  let pollError = '';
  for (;;) {
    if (!sending() && lastSendDone === Number.POSITIVE_INFINITY) lastSendDone = Date.now();
    const ids = [...sentAt.keys()];
    if (ids.length > 0) {
      try {
        const found = await es.search({ index, size: ids.length, _source: false, query: { terms: { _id: ids } } });
        const now = Date.now();
        for (const hit of found.hits.hits) {
          const sent = sentAt.get(hit._id as string);
          if (sent === undefined) continue;
          latencies.push(now - sent);
          sentAt.delete(hit._id as string);
        }
        pollError = '';
      } catch (err) {
        pollError = ` (last search failed: ${(err as Error).message})`;
      }
    }
    if (!sending() && sentAt.size === 0) return;
    if (Date.now() > lastSendDone + 60_000) throw new Error(`${what}: ${sentAt.size} records not searchable 60 s after the last send${pollError}`);
    await sleep(100);
  }
}

/** One record at a time at TRICKLE_PER_SECOND; each one's time from send to showing up in a search. */
async function trickle(producer: Producer, es: Client, topic: string, program: PipelineProgram): Promise<number[]> {
  const random = prng(7);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let sending = true;
  const index = `logs.${tenant}.checkout-*`;

  const send = async (): Promise<void> => {
    try {
      const started = Date.now();
      for (let i = 0; i < TRICKLE; i++) {
        const due = started + (i * 1000) / TRICKLE_PER_SECOND;
        if (due > Date.now()) await sleep(due - Date.now());
        const now = new Date();
        const line = logLine(random, now, now.getUTCMilliseconds() * 1e6, i);
        line['level'] = 'info'; // every trickle record must become a document
        const { key, envelope } = envelopeFor(random, 1_000_000 + i, now, now.getUTCMilliseconds() * 1e6, line);
        if (program.run(envelope).kind !== 'document') throw new Error('trickle: a generated record would not become a document');
        sentAt.set(envelope.id, Date.now());
        await producer.send({ topic, acks: -1, compression: CompressionTypes.LZ4, messages: [{ key, value: encodeEnvelope(envelope) }] });
      }
    } finally {
      sending = false;
    }
  };

  await Promise.all([send(), untilSearchable(es, index, sentAt, latencies, () => sending, 'trickle')]);
  return latencies.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------
// The processor under test: `tributary processor` in its own process, measured from /proc.

interface ProcessorProcess {
  readonly child: ChildProcess;
  /** CPU seconds (user + system, every thread) so far. */
  cpu(): number;
  /** Resident memory now and at its peak, bytes. */
  memory(): { rss: number; peak: number };
  /** SIGTERM; the exit code and how long it took. */
  stop(): Promise<{ code: number | null; ms: number }>;
  output(): string;
}

function startProcessorProcess(brokers: readonly string[], elasticsearchUrl: string): ProcessorProcess {
  // BENCH_PROCESSOR_FLAGS: more flags for the processor, e.g. to compare bulk or in-flight settings.
  const extra = (process.env['BENCH_PROCESSOR_FLAGS'] ?? '').split(/\s+/).filter((flag) => flag !== '');
  const child = spawn(process.execPath, [CLI, 'processor', '--group', `bench-processor-${tenant}`, '--tenants', tenant, '--metrics-port', '0', ...extra], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), ELASTICSEARCH_URL: elasticsearchUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pid = child.pid as number;
  return {
    child,
    cpu: () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    memory: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
      return { rss: kib('VmRSS'), peak: kib('VmHWM') };
    },
    stop: async () => {
      const started = Date.now();
      if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timeout);
      return { code, ms: Date.now() - started };
    },
    output: () => output,
  };
}

/**
 * The seed's load for SEED_SECONDS: every 100 ms a batch worth SEED_BYTES_PER_SECOND / 10,
 * of which SEED_SAMPLES_PER_SEND records are timed from send until searchable.
 */
async function seedLoad(producer: Producer, es: Client, topic: string, program: PipelineProgram): Promise<{ records: number; bytes: number; latencies: number[] }> {
  const random = prng(11);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const index = `logs.${tenant}.checkout-*`;
  let records = 0;
  let bytes = 0;
  let sending = true;
  const send = async (): Promise<void> => {
    try {
      const started = Date.now();
      const perSend = SEED_BYTES_PER_SECOND / 10;
      for (let tick = 0; tick < SEED_SECONDS * 10; tick++) {
        const due = started + tick * 100;
        if (due > Date.now()) await sleep(due - Date.now());
        const messages: Message[] = [];
        let batchBytes = 0;
        const timed: string[] = [];
        while (batchBytes < perSend) {
          const now = new Date();
          const line = logLine(random, now, now.getUTCMilliseconds() * 1e6, records);
          if (timed.length < SEED_SAMPLES_PER_SEND) line['level'] = 'info'; // a timed record must become a document
          const { key, envelope } = envelopeFor(random, 2_000_000 + records, now, now.getUTCMilliseconds() * 1e6, line);
          const value = encodeEnvelope(envelope);
          if (timed.length < SEED_SAMPLES_PER_SEND && program.run(envelope).kind === 'document') timed.push(envelope.id);
          messages.push({ key, value });
          batchBytes += value.length;
          records++;
        }
        bytes += batchBytes;
        const sent = Date.now();
        for (const id of timed) sentAt.set(id, sent);
        await producer.send({ topic, acks: -1, compression: CompressionTypes.LZ4, messages });
      }
    } finally {
      sending = false;
    }
  };
  await Promise.all([send(), untilSearchable(es, index, sentAt, latencies, () => sending, 'seed load')]);
  return { records, bytes, latencies: latencies.sort((a, b) => a - b) };
}

function describeWork(work: IndexWork | undefined, documents: number): string {
  if (!work || work.bulks === 0) return 'n/a';
  return (
    `${format(work.bulks)} bulks of ${format(documents / work.bulks)} docs (${format(work.bulkMs / work.bulks)} ms each); ` +
    `indexing ${seconds(work.indexingMs)}, ${work.refreshes} refreshes ${seconds(work.refreshMs)}, ${work.merges} merges ${seconds(work.mergeMs)}`
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { pipelines, errors } = checkManifests(MANIFEST, { file: 'bench', version: 1 });
  const program = pipelines[0]?.program;
  if (errors.length > 0 || !program) throw new Error(`bench manifest rejected: ${JSON.stringify(errors)}`);

  say(`generating ${format(records)} envelopes and what the pipeline makes of them…`);
  const generated = await generate(records, program);
  const expected = generated.documents.length;
  say(
    `${format(records)} envelopes, ${(generated.valueBytes / 1e6).toFixed(1)} MB (lines ${Math.round(generated.lineBytes / records)} B, envelopes ${Math.round(generated.valueBytes / records)} B on average); ` +
      `${format(expected)} documents, ${format(generated.dropped)} debug lines dropped`,
  );

  say('starting engines (KAFKA_BROKERS / ELASTICSEARCH_URL if set, else local)…');
  const enginesStarted = Date.now();
  const engines = await startEngines({ schemaRegistry: false });
  say(`engines ready in ${seconds(Date.now() - enginesStarted)}: ${engines.engines.map((e) => `${e.name} ${e.mode} ${e.address}`).join(', ')}`);
  const brokers = engines.kafka.brokers;
  const elasticsearchUrl = engines.elasticsearch.url;
  const es = createElasticsearch({ url: elasticsearchUrl, requestTimeout: 60_000 });
  const kafka: Kafka = createKafka({ brokers, clientId: 'bench-processor' }, logger);
  const admin = kafka.admin();
  let controlPlane: ControlPlane | undefined;
  let producer: Producer | undefined;
  let processor: ProcessorProcess | undefined;
  try {
    await admin.connect();
    await ensureTopics(admin, tenantTopics(tenant, { partitions: PARTITIONS }));

    controlPlane = new ControlPlane({
      brokers,
      elasticsearchUrl,
      port: 0,
      host: '127.0.0.1',
      tokens: { tenants: {}, adminToken: ADMIN_TOKEN },
      topics: { partitions: PARTITIONS },
      logger,
    });
    await controlPlane.start();
    const applied = await controlPlane.http.inject({
      method: 'PUT',
      url: `/v1/tenants/${tenant}/pipelines/${PIPELINE}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
      payload: MANIFEST,
    });
    if (applied.statusCode !== 201) throw new Error(`apply failed: ${applied.statusCode} ${applied.body}`);
    if ((applied.json() as { version: number }).version !== program.version) throw new Error(`applied version ${applied.body}, expected ${program.version}`);

    // 1. Produce everything first.
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    say(`producing to logs.${tenant} (${PARTITIONS} partitions, LZ4, idempotent, batches of ${PRODUCE_BATCH})…`);
    const produceCpu = sampleCpu(engines.engines);
    const produceMs = await produceAll(producer, `logs.${tenant}`, generated.messages);
    const produceEngines = cpuBetween(produceCpu, sampleCpu(engines.engines));
    say(`produced in ${seconds(produceMs)}`);
    generated.messages.length = 0; // the buffers are not needed any more

    // 2. Warm Elasticsearch up (JIT, dynamic mapping code paths) with the same documents in a
    //    throwaway index, so neither measured phase pays for a cold JVM.
    const warmIndex = `logs.${tenant}.warm-up`;
    const warmItems: BulkItem[] = generated.documents.slice(0, WARM_UP).map((d) => ({ index: warmIndex, id: d.id, body: d.body, op: 'create' }));
    const warmStarted = Date.now();
    await bulkAll(es, warmItems);
    const warm = await waitForCount(es, warmIndex, warmItems.length, 300_000, warmStarted);
    const warmMs = warm.doneAt - warmStarted;
    await es.indices.delete({ index: warmIndex });
    say(`Elasticsearch warm-up: ${format(warmItems.length)} documents in ${seconds(warmMs)} (${format(warmItems.length / (warmMs / 1000))} docs/s), index deleted`);

    // 3. One processor, from the beginning, until every document is searchable.
    const processedIndex = `logs.${tenant}.checkout-*`;
    const e2eCpu = sampleCpu(engines.engines);
    const started = Date.now();
    processor = startProcessorProcess(brokers, elasticsearchUrl);
    const proc = processor;
    say(`processor started (pid ${proc.child.pid}, tributary processor --tenants ${tenant} ${process.env['BENCH_PROCESSOR_FLAGS'] ?? ''}); waiting for ${format(expected)} documents…`);
    const e2e = await waitForCount(es, processedIndex, expected, 300_000 + records, started).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nprocessor output:\n${proc.output().slice(-4000)}`);
    });
    const processorCpu = proc.cpu();
    const e2eEngines = cpuBetween(e2eCpu, sampleCpu(engines.engines), processorCpu);
    const e2eWork = await indexWork(es, processedIndex);
    const e2eMemory = proc.memory();
    const e2eMs = e2e.doneAt - started;
    const steadyMs = e2e.doneAt - (e2e.firstAt ?? started);
    say(`end-to-end in ${seconds(e2eMs)} (first document after ${seconds((e2e.firstAt ?? started) - started)})`);

    // 4. Raw ceiling: the same documents, bulked straight into a fresh index.
    const rawIndex = `logs.${tenant}.raw-ceiling`;
    const items: BulkItem[] = generated.documents.map((d) => ({ index: rawIndex, id: d.id, body: d.body, op: 'create' }));
    say(`raw ceiling: bulking ${format(items.length)} documents into ${rawIndex} (batches of ${RAW_BATCH}, ${RAW_IN_FLIGHT} in flight)…`);
    const rawCpu = sampleCpu(engines.engines);
    const rawStarted = Date.now();
    const bulked = await bulkAll(es, items);
    const bulkedAt = Date.now();
    const raw = await waitForCount(es, rawIndex, expected, 300_000 + records, rawStarted);
    const rawMs = raw.doneAt - rawStarted;
    const rawCpuProcessor = proc.cpu();
    const rawEngines = cpuBetween(rawCpu, sampleCpu(engines.engines), proc.cpu() - rawCpuProcessor);
    const rawWork = await indexWork(es, rawIndex);
    say(`raw ceiling in ${seconds(rawMs)} (bulk requests done after ${seconds(bulkedAt - rawStarted)}, ${bulked.retried} items retried)`);

    // 5. Trickle latency.
    say(`trickle: ${TRICKLE} records one at a time at ${TRICKLE_PER_SECOND}/s…`);
    const latencies = await trickle(producer, es, `logs.${tenant}`, program);

    // 6. The seed's load, through the same processor.
    say(`seed load: ${(SEED_BYTES_PER_SECOND / 1e6).toFixed(1)} MB/s for ${SEED_SECONDS} s…`);
    const seedCpuBefore = proc.cpu();
    const seedStarted = Date.now();
    const seed = await seedLoad(producer, es, `logs.${tenant}`, program);
    const seedMs = Date.now() - seedStarted;
    const seedCpu = proc.cpu() - seedCpuBefore;
    const seedMemory = proc.memory();
    const seedP99 = percentile(seed.latencies, 0.99);
    const stopped = await proc.stop();
    processor = undefined;

    // 7. Figures.
    const e2eRate = records / (e2eMs / 1000);
    const e2eDocRate = expected / (e2eMs / 1000);
    const steadyDocRate = expected / (steadyMs / 1000);
    const rawDocRate = expected / (rawMs / 1000);
    const ratio = rawMs / e2eMs;
    const cpuMicros = processorCpu * 1e6;
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    const rows: Array<[string, string]> = [
      ['records (envelopes)', `${format(records)} (${format(generated.dropped)} debug dropped → ${format(expected)} documents)`],
      ['envelope size (avg)', `${Math.round(generated.valueBytes / records)} B (log line ${Math.round(generated.lineBytes / records)} B); documents ${Math.round(generated.documentBytes / expected)} B`],
      ['produce (idempotent, LZ4, 1000/batch)', `${format(records / (produceMs / 1000))} records/s, ${(generated.valueBytes / 1e6 / (produceMs / 1000)).toFixed(1)} MB/s (${seconds(produceMs)})`],
      ['Elasticsearch warm-up (not measured: same bulks, throwaway index)', `${format(warmItems.length)} docs at ${format(warmItems.length / (warmMs / 1000))} docs/s (${seconds(warmMs)})`],
      ['end-to-end, processor start → all searchable', `${format(e2eRate)} records/s, ${(generated.valueBytes / 1e6 / (e2eMs / 1000)).toFixed(1)} MB/s, ${format(e2eDocRate)} docs/s (${seconds(e2eMs)})`],
      ['  of which start-up → first document', `${seconds((e2e.firstAt ?? started) - started)}`],
      ['  steady: first → all documents', `${format(steadyDocRate)} docs/s (${seconds(steadyMs)})`],
      ['raw ceiling: bulkWrite, 2000/batch, 4 in flight', `${format(rawDocRate)} docs/s, ${(generated.documentBytes / 1e6 / (rawMs / 1000)).toFixed(1)} MB/s of documents (${seconds(rawMs)})`],
      ['end-to-end / raw (docs/s)', `${ratio.toFixed(2)} (target ≥ 0.9: ${ratio >= 0.9 ? 'met' : 'NOT met'}); steady / raw ${(steadyDocRate / rawDocRate).toFixed(2)}`],
      ['CPU while producing (share of one core)', produceEngines.text],
      ['CPU, end-to-end phase', e2eEngines.text],
      ['CPU, raw-ceiling phase', rawEngines.text],
      ['Elasticsearch work on the index, end-to-end', describeWork(e2eWork, expected)],
      ['Elasticsearch work on the index, raw ceiling', describeWork(rawWork, expected)],
      ['processor CPU, end-to-end phase (start-up included)', `${(cpuMicros / records).toFixed(1)} µs/record (${seconds(cpuMicros / 1000)} over ${seconds(e2eMs)}; ${Math.round((cpuMicros / 1000 / e2eMs) * 100)} % of one core)`],
      ['processor RSS after the end-to-end phase', `${Math.round(e2eMemory.rss / 2 ** 20)} MiB (peak ${Math.round(e2eMemory.peak / 2 ** 20)} MiB)`],
      [`trickle ${TRICKLE} at ${TRICKLE_PER_SECOND}/s, produce → searchable`, `p50 ${p50} ms, p99 ${p99} ms, max ${latencies[latencies.length - 1]} ms (target p99 ≤ 2000 ms: ${p99 <= 2000 ? 'met' : 'NOT met'})`],
      [`seed load: ${(SEED_BYTES_PER_SECOND / 1e6).toFixed(1)} MB/s for ${SEED_SECONDS} s`, `${format(seed.records)} records, ${(seed.bytes / 1e6 / (seedMs / 1000)).toFixed(2)} MB/s sent (${format(seed.records / (seedMs / 1000))} records/s)`],
      ['  processor CPU at the seed load', `${((seedCpu * 1e6) / seed.records).toFixed(1)} µs/record, ${Math.round((seedCpu / (seedMs / 1000)) * 100)} % of one core`],
      ['  processor RSS at the seed load', `${Math.round(seedMemory.rss / 2 ** 20)} MiB (peak since start ${Math.round(seedMemory.peak / 2 ** 20)} MiB)`],
      [`  produce → searchable, ${format(seed.latencies.length)} sampled records`, `p50 ${percentile(seed.latencies, 0.5)} ms, p99 ${seedP99} ms, max ${seed.latencies[seed.latencies.length - 1]} ms (target p99 ≤ 2000 ms: ${seedP99 <= 2000 ? 'met' : 'NOT met'})`],
      ['processor SIGTERM → exit', `exit ${stopped.code} after ${stopped.ms} ms`],
    ];
    const engineLine = engines.engines.map((e) => `${e.name} ${e.version ?? ''} (${e.mode})`.replace(' ()', '')).join(', ');
    console.log(`\nprocessor, ${format(records)} records — ${command}`);
    console.log(`engines: ${engineLine}; this machine: ${availableParallelism()} CPUs; Node ${process.version}\n`);
    console.log('| figure | value |');
    console.log('|---|---|');
    for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
    console.log('');
    const busiest = Math.max(produceEngines.others, e2eEngines.others, rawEngines.others);
    if (busiest > 0.2) console.log(`WARNING: other processes used up to ${Math.round(busiest * 100)} % of a core during a measured phase: these figures are not clean.\n`);
  } finally {
    const step = async (what: string, action: () => Promise<unknown>): Promise<void> => {
      try {
        await action();
      } catch (err) {
        console.error(`[bench] cleanup: ${what} failed: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    };
    await step('stopping the processor', async () => {
      const result = await processor?.stop();
      if (result && result.code !== 0) throw new Error(`the processor exited ${result.code}:\n${processor?.output().slice(-2000)}`);
    });
    await step('stopping the producer', async () => producer?.disconnect());
    await step('deleting the bench indices', async () => {
      const deleted = await deleteIndices(es, `logs.${tenant}.*`);
      say(`deleted ${deleted.length} indices: ${deleted.join(', ')}`);
    });
    await step('deleting the pipeline', async () => {
      await controlPlane?.http.inject({ method: 'DELETE', url: `/v1/tenants/${tenant}/pipelines/${PIPELINE}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    });
    await step('stopping the control plane', async () => controlPlane?.stop());
    await step('deleting the bench topics', async () => admin.deleteTopics({ topics: [`logs.${tenant}`, `dlq.${tenant}`] }));
    await step('disconnecting the admin', async () => admin.disconnect());
    await step('closing Elasticsearch', async () => es.close());
    await step('stopping the engines', async () => engines.stop());
  }
}

try {
  await main();
} catch (err) {
  console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}
// kafkajs may leave a retry timer behind; everything we started is stopped by now.
process.exit(process.exitCode ?? 0);
