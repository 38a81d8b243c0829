/**
 * The fairness scenario, shared by `test/processor-fairness.test.ts` (what it asserts: no
 * starvation, in units of the flood's own throughput) and `bench/fairness.ts` (the figures,
 * against the latency target): one tenant floods the processor with an expensive pipeline
 * while another sends a trickle.
 *
 * One in-process `Processor` consumes only the two tenants' topics. The flood tenant has a
 * backlog of FLOOD_BACKLOG envelopes on 6 partitions before the processor starts, more keep
 * coming while the trickle runs, and its pipeline is deliberately expensive (regex parses,
 * keyValue, several redactions). The trickle tenant (1 partition, default pipeline) sends
 * TRICKLE_RECORDS records one at a time at TRICKLE_RATE/s from the moment the processor has
 * joined its group, so the flood's first and fullest fetches are included. Both indices are
 * created (with their mappings) beforehand, so index creation isn't measured.
 *
 * Each trickle record's latency is measured from a worker thread, twice: until a realtime
 * `_mget` finds it (stored: the processor's part) and until a `_search` finds it
 * (searchable: what a user sees). The flood's searchable count is sampled every second, so
 * the contention is measured too: how fast the flood was indexed during the trickle, and
 * whether its backlog was still there at the end.
 *
 * The BulkWriter's per-tenant turns can't be switched off by an option, so a scenario run
 * with the processor's fairness "off" (no batch time budget, tenant and partition in-flight
 * limits equal to the process limit) still has them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import kafkajs, { type Kafka, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { bulkWrite, createElasticsearch, type BulkItem } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, platformTopics, PIPELINES_TOPIC, tenantTopics } from '@tributary/kafka';
import { PipelineRegistry, pipelineRecord, type LoggingPipeline } from '@tributary/pipeline';
import { Processor, RecordHandler, type ProcessorOptions } from '@tributary/processor';
import { uniqueName } from '@tributary/testkit';

export const FLOOD_BACKLOG = Number(process.env['FAIRNESS_FLOOD_BACKLOG'] ?? 150_000);
/** Flood records per second produced while the trickle runs, on top of the backlog. */
const FLOOD_EXTRA_RATE = 2000;
export const FLOOD_PARTITIONS = 6;
/**
 * Flood records in one 1 MiB partition fetch (the processor's maxBytesPerPartition), counted
 * here: ≈ 3900. A whole fetch of the flood's partitions is FLOOD_PARTITIONS times that.
 */
export const FLOOD_RECORDS_PER_PARTITION_FETCH = 3900;
const TRICKLE_RECORDS = 100;
const TRICKLE_RATE = 10;
/** How often the outstanding trickle ids are looked for. */
const POLL_MS = 100;
/** A trickle record not found this long after it was sent counts as lost. */
export const ARRIVAL_TIMEOUT_MS = 30_000;
const LOG_LEVEL = process.env['FAIRNESS_LOG_LEVEL'] ?? 'silent';
export const MiB = 1024 * 1024;

/** Where the engines are: `testEngines()` in a test, `startEngines()` in the bench. */
export interface FairnessEngines {
  readonly brokers: readonly string[];
  readonly elasticsearchUrl: string;
  readonly schemaRegistryUrl: string;
}

const logger = pino({ level: LOG_LEVEL }, pino.destination(2));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Secret detectors a cautious tenant redacts from every line (cloud keys, tokens, connection
 * strings, national ids): 32 RE2 patterns, each a full scan of the fields it looks in.
 */
const SECRET_PATTERNS = [
  'AKIA[0-9A-Z]{16}', 'ASIA[0-9A-Z]{16}', 'ghp_[A-Za-z0-9]{36}', 'gho_[A-Za-z0-9]{36}', 'glpat-[A-Za-z0-9_-]{20}', 'xox[baprs]-[A-Za-z0-9-]{10,}',
  '-----BEGIN [A-Z ]*PRIVATE KEY-----', 'eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}', 'sk_live_[0-9a-zA-Z]{24}', 'rk_live_[0-9a-zA-Z]{24}',
  'AIza[0-9A-Za-z_-]{35}', 'SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}', 'npm_[A-Za-z0-9]{36}', 'hvs\\.[A-Za-z0-9_-]{24,}',
  '\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b', '\\b[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\\b', '\\+[0-9]{10,14}', '(?i)bearer [A-Za-z0-9._~+/-]+=*',
  '(?i)api[_-]?key\\s*[=:]\\s*\\S+', '(?i)client[_-]?secret\\s*[=:]\\s*\\S+', '(?i)session(?:id)?\\s*[=:]\\s*\\S+', '\\bsig=[0-9a-f]{64}\\b',
  '(?i)authorization:\\s*\\S+', '[a-z0-9+/]{40,}={0,2}', '(?i)passwd\\s*[:=]\\s*\\S+', '\\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\\b',
  '(?i)private[_-]?key\\S*', '(?i)(?:error|exception|failed|timeout|refused|denied)[^"]{0,40}(?:user|account)\\s*[=:]\\s*\\w+',
  '\\b[0-9]{4}[ -]?[0-9]{6}[ -]?[0-9]{5}\\b', '(?i)mongodb(?:\\+srv)?://\\S+', '(?i)postgres(?:ql)?://\\S+', '(?i)mysql://\\S+',
];

/**
 * The flood tenant's pipeline: per record, five RE2 regex parses or scans over a ≈ 800-byte
 * line, a key=value parse into ≈ 30 fields, a timestamp, a level, five redactions (card,
 * email, ipv4, and the 32 secret detectors over the line twice), conversions and removals.
 * About 280 µs per record on this machine (decode, pipeline and document JSON), against
 * ≈ 2 µs for the bench's pipeline: a 1 MiB fetch of one partition (≈ 3900 records) is about
 * a second of CPU.
 */
function expensivePipeline(tenant: string): LoggingPipeline {
  return {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'LoggingPipeline',
    metadata: { name: 'expensive', namespace: tenant },
    spec: {
      parse: [
        { regex: { field: 'message', pattern: '^(?P<ts>\\S+) (?P<lvl>[A-Z]+) \\[(?P<thread>[^\\]]+)\\] (?P<logger>[\\w.]+) - (?P<rest>.*)$' } },
        { timestamp: { field: 'ts', format: 'rfc3339' } },
        { level: { field: 'lvl' } },
        { keyValue: { field: 'rest', target: 'kv' } },
        { regex: { field: 'rest', pattern: 'path=(?P<route>/api/(?P<resource>[a-z]+)/(?P<rid>[0-9]+))', target: 'http' } },
        { regex: { field: 'rest', pattern: '(?P<client_email>[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})', target: 'user' } },
        { regex: { field: 'rest', pattern: '(?P<id>[0-9a-f]{32})', target: 'trace' } },
        { regex: { field: 'rest', pattern: '(?:^|\\s)ua="(?P<agent>[^"]*)"', target: 'ua' } },
      ],
      transform: [
        { redact: { patterns: ['card', 'email', 'ipv4', { regex: 'token=[A-Za-z0-9_-]{8,}' }, { regex: '(?i)password=\\S+' }], in: ['message', 'rest'], keepLast: 4 } },
        { redact: { fields: ['kv.token', 'kv.password', 'kv.card'] } },
        { redact: { patterns: ['email', 'ipv4'], in: ['kv.client', 'kv.ip', 'kv.msg', 'user.client_email'] } },
        { redact: { patterns: SECRET_PATTERNS.slice(0, 16).map((regex) => ({ regex })), in: ['message', 'rest'] } },
        { redact: { patterns: SECRET_PATTERNS.slice(16).map((regex) => ({ regex })), in: ['message', 'rest'] } },
        { convert: { field: 'kv.status', type: 'integer' } },
        { convert: { field: 'kv.dur_ms', type: 'float' } },
        { lowercase: { fields: ['kv.method', 'thread'] } },
        { remove: { fields: ['rest', 'ts', 'lvl'] } },
      ],
      output: { elasticsearch: { index: 'expensive' } },
    },
  };
}

const LEVELS = ['INFO', 'INFO', 'WARN', 'ERROR', 'INFO', 'DEBUG'];

/** Flood envelope `i`: a Java-style access line with ≈ 30 key=value pairs, ≈ 900 bytes as an envelope. */
function floodEnvelope(tenant: string, i: number): Buffer {
  const attrs: string[] = [];
  for (let k = 0; k < 16; k++) attrs.push(`attr_${k}=value-${(i * 31 + k) % 997}`);
  const trace = `${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}4bf92f3577b34da6a3ce929d`;
  const message =
    `2026-11-25T10:${String(Math.floor(i / 60_000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z ` +
    `${LEVELS[i % LEVELS.length]} [worker-${i % 8}] com.example.checkout.OrderService - method=POST path=/api/orders/${100_000 + i} ` +
    `status=${i % 10 === 0 ? 500 : 200} dur_ms=${(i % 997) / 10} client=user${i % 500}@example.com ip=10.${i % 255}.${(i >> 8) % 255}.7 ` +
    `token=tok_${(i * 7919).toString(36)}abcdefgh password=hunter${i % 10} card=4111 1111 1111 1111 trace=${trace} ` +
    `ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" ${attrs.join(' ')} ` +
    `msg="order ${i} accepted for user${i % 500}@example.com from 10.1.2.3"`;
  return encodeEnvelope({
    id: `flood-${i}`,
    time: '2026-11-25T10:00:00.000000000Z',
    stream: 'stdout',
    message,
    source: { kind: 'sdk', app: 'checkout', host: `host-${i % 6}` },
    kubernetes: { namespace: tenant, pod: `checkout-${i % 12}`, pod_uid: `uid-${i % 12}`, container: 'api' },
  });
}

function trickleEnvelope(tenant: string, id: string): Buffer {
  return encodeEnvelope({
    id,
    time: new Date().toISOString(),
    stream: 'stdout',
    message: `trickle record ${id}: payment accepted`,
    source: { kind: 'sdk', app: 'billing', host: 'billing-0' },
    kubernetes: { namespace: tenant, pod: 'billing-0', pod_uid: 'uid-billing-0', container: 'app' },
  });
}

/** Busy CPU-seconds of the whole machine so far (every process: the engines, this one, anyone else's), from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    return busy / 100;
  } catch {
    return NaN;
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/**
 * The trickle's sender and watcher, in a worker thread: its own event loop, so neither the
 * sends nor the 100 ms look-ups wait behind the processor's work on the main thread (in
 * production the producer isn't in the processor's process either). Plain CommonJS with
 * kafkajs and fetch, no TypeScript.
 *
 * Sends `records` one at a time at `rate`/s. Every `pollMs` it asks Elasticsearch for the
 * ids sent and not yet seen, twice: a realtime `_mget` (stored: the processor's bulk was
 * acknowledged, whether or not a refresh made it searchable yet) and a `_search` (searchable,
 * what a user sees). A record's latency is from just before its send until the answer that
 * first returns it (an upper bound). Posts `done` with both latencies by id.
 */
const TRICKLE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { Kafka, logLevel } = require(workerData.kafkajs);
const { brokers, elasticsearchUrl, topic, index, records, rate, pollMs, timeoutMs } = workerData;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function post(path, body) {
  const response = await fetch(elasticsearchUrl + '/' + encodeURIComponent(index) + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(path + ' answered ' + response.status + ': ' + (await response.text()).slice(0, 200));
  return response.json();
}
const stored = async (ids) => (await post('/_mget?realtime=true&_source=false', { ids })).docs.filter((d) => d.found).map((d) => d._id);
const searchable = async (ids) =>
  (await post('/_search?ignore_unavailable=true', { query: { ids: { values: ids } }, _source: false, size: ids.length, track_total_hits: false })).hits.hits.map((h) => h._id);
async function main() {
  const kafka = new Kafka({ clientId: 'fairness-trickle', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const sentAt = new Map();
    const latency = { stored: {}, searchable: {} };
    const asked = { stored: 0, searchable: 0, failed: 0 };
    let sendingDone = false;
    let lastSentAt = 0;
    const start = performance.now();
    parentPort.postMessage({ type: 'started' });
    const sending = (async () => {
      try {
        for (let i = 0; i < records.length; i++) {
          await sleep(Math.max(0, start + (i * 1000) / rate - performance.now()));
          sentAt.set(records[i].id, (lastSentAt = performance.now()));
          await producer.send({ topic, acks: -1, messages: [{ key: 'billing-0', value: Buffer.from(records[i].value) }] });
        }
      } finally {
        sendingDone = true;
      }
    })();
    const sendFailure = sending.then(() => undefined, (err) => err);
    const look = async (kind, ask) => {
      const outstanding = [...sentAt.keys()].filter((id) => !(id in latency[kind]));
      if (outstanding.length === 0) return;
      asked[kind]++;
      try {
        const found = await ask(outstanding);
        const now = performance.now();
        for (const id of found) if (!(id in latency[kind])) latency[kind][id] = now - sentAt.get(id);
      } catch {
        asked.failed++;
      }
    };
    for (;;) {
      const left = [...sentAt.keys()].filter((id) => !(id in latency.searchable)).length;
      if (sendingDone && (left === 0 || performance.now() - lastSentAt > timeoutMs)) break;
      const pollAt = performance.now();
      await Promise.all([look('stored', stored), look('searchable', searchable)]);
      await sleep(Math.max(0, pollAt + pollMs - performance.now()));
    }
    const failed = await sendFailure;
    if (failed) throw failed;
    parentPort.postMessage({ type: 'done', latency, sendSeconds: (lastSentAt - start) / 1000, seconds: (performance.now() - start) / 1000, asked });
  } finally {
    await producer.disconnect();
  }
}
main().catch((err) => parentPort.postMessage({ type: 'error', message: String((err && err.stack) || err) }));
`;

interface TrickleDone {
  readonly type: 'done';
  /** ms from send until stored (realtime get) and until searchable, by id. */
  readonly latency: { readonly stored: Record<string, number>; readonly searchable: Record<string, number> };
  readonly sendSeconds: number;
  readonly seconds: number;
  readonly asked: { readonly stored: number; readonly searchable: number; readonly failed: number };
}
type TrickleMessage = { readonly type: 'started' } | TrickleDone | { readonly type: 'error'; readonly message: string };

export interface Latencies {
  /** Sorted. */
  readonly sorted: number[];
  /** In sending order; NaN where never seen. */
  readonly inOrder: number[];
  readonly missing: string[];
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

function latencies(ids: readonly string[], byId: Record<string, number>): Latencies {
  const inOrder = ids.map((id) => byId[id] ?? NaN);
  const sorted = inOrder.filter((l) => !Number.isNaN(l)).sort((a, b) => a - b);
  return { sorted, inOrder, missing: ids.filter((id) => byId[id] === undefined), p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
}

export interface ScenarioResult {
  readonly stored: Latencies;
  readonly searchable: Latencies;
  readonly floodAtStart: number;
  readonly floodAtEnd: number;
  readonly floodProduced: number;
  /** Flood documents indexed per second while the trickle ran. */
  readonly floodRate: number;
  /** The flood's document count every second during the trickle. */
  readonly floodTimeline: number[];
  readonly summary: string;
}

export const ms = (n: number): string => `${Math.round(n)} ms`;

/**
 * Sets up both tenants, fills the flood backlog, starts one processor with `options`, runs
 * the trickle from the moment it has joined its group (the flood's first, fullest fetches
 * included) and measures; cleans everything up whatever happens.
 */
export async function fairnessScenario(
  engines: FairnessEngines,
  label: string,
  options: Partial<ProcessorOptions>,
  diagnostic: (message: string) => void,
): Promise<ScenarioResult> {
  const began = Date.now();
  const flood = uniqueName('fair-flood');
  const trickle = uniqueName('fair-trickle');
  const floodIndex = `logs.${flood}.expensive`;
  const trickleIndex = `logs.${trickle}.default`;
  const kafka: Kafka = createKafka({ brokers: engines.brokers, clientId: 'fairness-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  const es = createElasticsearch({ url: engines.elasticsearchUrl });
  let floodProducer: Producer | undefined;
  let processor: Processor | undefined;
  let worker: Worker | undefined;
  let extra: Promise<void> | undefined;
  let producing = true;
  let sampler: NodeJS.Timeout | undefined;
  const published = pipelineRecord(expensivePipeline(flood), 1, new Date().toISOString());
  try {
    await admin.connect();
    await ensureTopics(admin, [...platformTopics(), ...tenantTopics(flood, { partitions: FLOOD_PARTITIONS }), ...tenantTopics(trickle, { partitions: 1 })]);
    floodProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await floodProducer.connect();
    await floodProducer.send({ topic: PIPELINES_TOPIC, acks: -1, messages: [published] });

    // Both indices exist, with their mappings, before the processor starts: one document each,
    // made by the processor's own RecordHandler and written directly. Creating an index and
    // its first mapping is a cluster-state update that would otherwise land on the first
    // measured records.
    const registry = new PipelineRegistry();
    assert.ok(registry.update(published.key, published.value).ok, 'the expensive pipeline compiles');
    const handler = new RecordHandler({ registry });
    const seeds: BulkItem[] = [];
    for (const [tenant, value] of [
      [flood, floodEnvelope(flood, 10_000_000)],
      [trickle, trickleEnvelope(trickle, `${trickle}-seed`)],
    ] as const) {
      const handled = await handler.handle({ topic: `logs.${tenant}`, partition: 0, offset: '0', key: null, value });
      assert.equal(handled.kind, 'index', `the seed document of ${tenant}: ${JSON.stringify(handled)}`);
      if (handled.kind === 'index') seeds.push({ index: handled.index, id: handled.id, body: handled.body, op: 'create' });
    }
    assert.deepEqual(seeds.map((i) => i.index), [floodIndex, trickleIndex]);
    assert.deepEqual((await bulkWrite(es, seeds, { refresh: true })).map((r) => r.status), ['stored', 'stored']);

    // The backlog: the flood is at full rate from the processor's first fetch.
    let floodProduced = 0;
    const sendFlood = async (count: number): Promise<void> => {
      const messages = [];
      for (let i = floodProduced; i < floodProduced + count; i++) messages.push({ key: `pod-${i % 12}`, value: floodEnvelope(flood, i) });
      await (floodProducer as Producer).send({ topic: `logs.${flood}`, acks: -1, compression: kafkajs.CompressionTypes.LZ4, messages });
      floodProduced += count;
    };
    const produceStart = Date.now();
    while (floodProduced < FLOOD_BACKLOG) await sendFlood(Math.min(1000, FLOOD_BACKLOG - floodProduced));
    const produceMs = Date.now() - produceStart;

    processor = new Processor({
      brokers: engines.brokers,
      elasticsearchUrl: engines.elasticsearchUrl,
      schemaRegistryUrl: engines.schemaRegistryUrl,
      groupId: uniqueName('fairness-processor'),
      tenants: [flood, trickle],
      topicRefreshMs: 1000,
      backoff: { initialMs: 50, maxMs: 1000 },
      shutdownTimeoutMs: 5000,
      logger,
      ...options,
    });
    const startedAt = Date.now();
    await processor.start();
    assert.equal(processor.pipelines.get(flood, 'expensive')?.version, 1, 'the expensive pipeline is in force once start() resolves');
    while (!processor.readiness().ready) {
      assert.ok(Date.now() - startedAt < 60_000, `the processor is not ready 60 s after start: ${JSON.stringify(processor.readiness())}`);
      await sleep(50);
    }
    const readyAt = Date.now();

    // More flood records keep coming during the whole trickle, in batches of 500.
    extra = (async () => {
      while (producing) {
        const at = Date.now();
        await sendFlood(500);
        await sleep(Math.max(0, (500 / FLOOD_EXTRA_RATE) * 1000 - (Date.now() - at)));
      }
    })();
    extra.catch(() => undefined);

    // The trickle, in its own thread, from now on.
    const ids = Array.from({ length: TRICKLE_RECORDS }, (_, i) => `${trickle}-${i}`);
    worker = new Worker(TRICKLE_WORKER, {
      eval: true,
      workerData: {
        kafkajs: createRequire(import.meta.url).resolve('kafkajs'),
        brokers: engines.brokers,
        elasticsearchUrl: engines.elasticsearchUrl,
        topic: `logs.${trickle}`,
        index: trickleIndex,
        records: ids.map((id) => ({ id, value: trickleEnvelope(trickle, id) })),
        rate: TRICKLE_RATE,
        pollMs: POLL_MS,
        timeoutMs: ARRIVAL_TIMEOUT_MS,
      },
    });
    const messages: TrickleMessage[] = [];
    let wake: (() => void) | undefined;
    const next = async (): Promise<TrickleMessage> => {
      while (messages.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return messages.shift() as TrickleMessage;
    };
    worker.on('message', (m: TrickleMessage) => {
      messages.push(m);
      wake?.();
    });
    worker.on('error', (err) => {
      messages.push({ type: 'error', message: String(err.stack ?? err) });
      wake?.();
    });
    worker.on('exit', (code) => {
      messages.push({ type: 'error', message: `the trickle worker exited (${code})` });
      wake?.();
    });

    // Searchable flood documents: moves with the flood index's refreshes.
    const floodCount = async (): Promise<number> => (await es.count({ index: floodIndex }).catch(() => ({ count: NaN }))).count;
    const refreshes = async (): Promise<Record<'flood' | 'trickle', { total: number; ms: number }>> => {
      const stats = await es.indices.stats({ index: [floodIndex, trickleIndex], metric: 'refresh' }).catch(() => undefined);
      const of = (index: string): { total: number; ms: number } => {
        const refresh = stats?.indices?.[index]?.total?.refresh;
        return { total: refresh?.external_total ?? NaN, ms: refresh?.external_total_time_in_millis ?? NaN };
      };
      return { flood: of(floodIndex), trickle: of(trickleIndex) };
    };

    const started = await next();
    assert.equal(started.type, 'started', started.type === 'error' ? started.message : 'the trickle worker did not start');
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpuBefore = process.cpuUsage();
    const machineBefore = machineBusySeconds();
    const trickleStart = performance.now();
    const [floodAtStart, bulksBefore, refreshBefore, esCpuBefore] = await Promise.all([floodCount(), bulkStats(processor), refreshes(), elasticsearchCpuSeconds(es)]);
    const floodTimeline: number[] = [floodAtStart];
    let maxPaused = 0;
    sampler = setInterval(() => {
      void floodCount().then((n) => floodTimeline.push(n));
      void processor?.metrics.pausedPartitions.get().then((g) => (maxPaused = Math.max(maxPaused, g.values[0]?.value ?? 0)));
    }, 1000);

    const done = await next();
    assert.equal(done.type, 'done', done.type === 'error' ? `the trickle failed: ${done.message}` : 'the trickle worker said nothing more');
    const trickleSeconds = (performance.now() - trickleStart) / 1000;
    clearInterval(sampler);
    loop.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const machineBusy = machineBusySeconds() - machineBefore;
    const [floodAtEnd, bulksAfter, refreshAfter, esCpuAfter] = await Promise.all([floodCount(), bulkStats(processor), refreshes(), elasticsearchCpuSeconds(es)]);
    const esCpu = esCpuAfter - esCpuBefore;
    const mainCpu = (cpu.user + cpu.system) / 1e6;
    producing = false;
    await extra;

    const stored = latencies(ids, done.latency.stored);
    const searchable = latencies(ids, done.latency.searchable);
    const floodRate = (floodAtEnd - floodAtStart) / trickleSeconds;
    const bulks = { count: bulksAfter.count - bulksBefore.count, seconds: bulksAfter.seconds - bulksBefore.seconds, documents: bulksAfter.documents - bulksBefore.documents };
    const refreshed = (which: 'flood' | 'trickle'): string => {
      const n = refreshAfter[which].total - refreshBefore[which].total;
      return `${which} ${n} (${Math.round((refreshAfter[which].ms - refreshBefore[which].ms) / Math.max(1, n))} ms each)`;
    };
    const figures = (l: Latencies): string => `p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`;
    const summary =
      `${label}: trickle of ${TRICKLE_RECORDS} sent over ${done.sendSeconds.toFixed(1)} s from the processor's group join; ` +
      `produce → searchable ${figures(searchable)} (${searchable.sorted.length} seen); produce → stored ${figures(stored)} (${stored.sorted.length} seen); ` +
      `flood ${floodAtStart} → ${floodAtEnd} documents of ${floodProduced} produced: ${Math.round(floodRate)} docs/s during the trickle`;
    diagnostic(summary);
    diagnostic(
      `${label}: flood count every 1 s: ${floodTimeline.join(' ')}; backlog of ${FLOOD_BACKLOG} produced in ${(produceMs / 1000).toFixed(1)} s; ` +
        `start() → ready ${((readyAt - startedAt) / 1000).toFixed(1)} s; ` +
        `CPU during the trickle (${trickleSeconds.toFixed(1)} s), in cores: this process ${(mainCpu / trickleSeconds).toFixed(2)} (processor, flood producer, trickle thread), Elasticsearch ${(esCpu / trickleSeconds).toFixed(2)}, ` +
        `everything else ${((machineBusy - mainCpu - esCpu) / trickleSeconds).toFixed(2)} (Kafka, and other work on the machine); ` +
        `event-loop delay p50 ${ms(loop.percentile(50) / 1e6)}, p99 ${ms(loop.percentile(99) / 1e6)}, max ${ms(loop.max / 1e6)}; ` +
        `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ` +
        `paused partitions max ${maxPaused}; look-ups ${done.asked.stored} mget, ${done.asked.searchable} search, ${done.asked.failed} failed`,
    );
    diagnostic(
      `${label}: ${bulks.count} bulks during the trickle, ${Math.round(bulks.documents / bulks.count)} documents and ${(bulks.seconds / bulks.count).toFixed(2)} s each on average; ` +
        `Elasticsearch refreshes ${refreshed('flood')}, ${refreshed('trickle')}`,
    );
    const round = (l: Latencies): string => l.inOrder.map((x) => (Number.isNaN(x) ? '-' : Math.round(x))).join(' ');
    diagnostic(`${label}: stored latencies in sending order (ms): ${round(stored)}`);
    diagnostic(`${label}: searchable latencies in sending order (ms): ${round(searchable)}`);
    const pools = await es.cat.threadPool({ thread_pool_patterns: 'refresh,write', h: 'name,size,max,queue,completed,rejected', format: 'json' }).catch(() => []);
    diagnostic(`${label}: Elasticsearch thread pools at the end: ${JSON.stringify(pools)}`);
    diagnostic(`${label}: scenario took ${((Date.now() - began) / 1000).toFixed(1)} s before clean-up`);
    return { stored, searchable, floodAtStart, floodAtEnd, floodProduced, floodRate, floodTimeline, summary };
  } finally {
    clearInterval(sampler);
    await worker?.terminate();
    producing = false;
    await extra?.catch(() => undefined);
    const stopAt = Date.now();
    await processor?.stop();
    diagnostic(`${label}: processor stopped in ${((Date.now() - stopAt) / 1000).toFixed(1)} s`);
    // Take the pipeline out of tributary.pipelines again (a tombstone), so other processors forget it.
    await floodProducer?.send({ topic: PIPELINES_TOPIC, acks: -1, messages: [{ key: published.key, value: null }] }).catch(() => undefined);
    await floodProducer?.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [`logs.${flood}`, `dlq.${flood}`, `logs.${trickle}`, `dlq.${trickle}`] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    // By exact name: this Elasticsearch refuses wildcard deletes.
    await es.indices.delete({ index: [floodIndex, trickleIndex], ignore_unavailable: true }).catch(() => undefined);
    await es.close();
  }
}

/** CPU-seconds the Elasticsearch process has used so far. */
async function elasticsearchCpuSeconds(es: ReturnType<typeof createElasticsearch>): Promise<number> {
  const stats = await es.nodes.stats({ metric: 'process' }).catch(() => undefined);
  const node = Object.values(stats?.nodes ?? {})[0];
  return (node?.process?.cpu?.total_in_millis ?? NaN) / 1000;
}

/** The processor's `_bulk` requests so far: how many, their total seconds and documents. */
async function bulkStats(processor: Processor): Promise<{ count: number; seconds: number; documents: number }> {
  const seconds = await processor.metrics.bulkSeconds.get();
  const documents = await processor.metrics.bulkDocuments.get();
  const value = (metric: typeof seconds, name: string): number => metric.values.find((v) => v.metricName === name)?.value ?? 0;
  return {
    count: value(seconds, 'tributary_processor_bulk_duration_seconds_count'),
    seconds: value(seconds, 'tributary_processor_bulk_duration_seconds_sum'),
    documents: value(documents, 'tributary_processor_bulk_documents_sum'),
  };
}


/** Processor options with its fairness switched off, for comparison (the BulkWriter's turns stay). */
export const FAIRNESS_OFF: Partial<ProcessorOptions> = { batchTimeBudgetMs: 3_600_000, inFlight: { tenant: 64 * MiB, partition: 64 * MiB } };

/**
 * The trickle's p99 wait in units of the flood's own throughput: how many flood documents
 * were indexed while it waited (p99 produce → searchable × the flood's rate meanwhile). A
 * trickle queued behind the flood's fetched work waits for about a whole fetch of it; one
 * served in turn, for a few bulks. Unlike the wait in seconds, it does not grow when the
 * machine is slower or busier, since the flood slows down with it.
 */
export function floodDocumentsAhead(r: ScenarioResult): number {
  return (r.searchable.p99 / 1000) * r.floodRate;
}
