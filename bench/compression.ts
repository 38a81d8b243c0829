/**
 * Which codec the forwarder's and the SDK's Kafka records should use (issue #6: "compressed,
 * lz4 or zstd; state the choice with figures").
 *
 *   npx tsx bench/compression.ts [records=200000] [--dump <file>]
 *
 * 1. A corpus of forwarder records made the way the forwarder makes them: container log files
 *    written in CRI and docker json-file format (runtime-split long lines included), parsed
 *    and reassembled by @tributary/container-log, turned into envelopes by the forwarder's
 *    own `lineRecord`, keyed by stream.
 * 2. Per codec, on one core: ratio, compress and decompress MB/s, CPU µs per record, on
 *    record batches cut the way kafkajs cuts them (one batch per topic partition per send),
 *    at three sizes the forwarder and the SDK actually send.
 * 3. With KAFKA_BROKERS set: `records` records produced as the forwarder produces them
 *    (idempotent, acks=-1, 1 000 records of one tenant a send) to a fresh topic per codec
 *    (deleted after): records/s, bytes on the wire, producer CPU.
 *
 * `--dump <file>` also writes the corpus as kafkajs encodes the records of a batch (what a
 * codec is given), for tools outside Node: `zstd -b1 -e3 -B16384 <file>`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import zlib from 'node:zlib';
import kafkajs, { Kafka, logLevel, type Message, type PartitionMetadata } from 'kafkajs';
import lz4 from 'lz4-napi';
import { detectFormat, LineAssembler, parseLine, parsePodLogPath, type LogFormat } from '@tributary/container-log';
import { lineRecord, type SourceFile } from '@tributary/forwarder';
// Imported for its side effect too: it registers the LZ4 codec the services ship.
import { tenantTopics } from '@tributary/kafka';
import { tenantNames } from '@tributary/tenant';
import { prng } from '@tributary/testkit';

// Not every kafkajs export is visible to ESM's static analysis of CommonJS: read them off the module.
const { CompressionCodecs, CompressionTypes, Partitioners } = kafkajs;

const args = process.argv.slice(2);
const dumpAt = args.indexOf('--dump');
const dumpFile = dumpAt >= 0 ? args.splice(dumpAt, 2)[1] : undefined;
const records = Number(args[0] ?? 200_000);
if (!Number.isSafeInteger(records) || records < 1000 || (dumpAt >= 0 && !dumpFile)) {
  console.error(`usage: npx tsx bench/compression.ts [records=200000] [--dump <file>]  (got ${process.argv.slice(2).join(' ')})`);
  process.exit(2);
}

/** Envelope bytes the corpus holds: a few tens of MB, so every batch size has hundreds of batches. */
const CORPUS_BYTES = 40e6;
/** Partitions of a tenant topic (`tenantTopics`' default): a batch holds the streams that hash to one. */
const PARTITIONS = 3;
/** Records per send in the end-to-end run: a busy forwarder pass over many files. */
const SEND_RECORDS = 1000;
/** Timed repetitions per codec and batch size; the fastest counts (least disturbed by the broker sharing the machine). */
const REPEATS = 3;
/** containerd's and docker's default: longer lines reach the file split into chunks of this. */
const RUNTIME_SPLIT_BYTES = 16 * 1024;
const NODE_NAME = 'ip-10-42-1-17.eu-west-1.compute.internal';

/**
 * The batch sizes a codec sees. kafkajs compresses the records of one partition of one send
 * as one unit, so the size of that unit is what the forwarder's and SDK's send pattern makes it.
 */
const BATCH_SIZES = [
  { label: '16 KiB', bytes: 16 * 1024, why: 'steady state: a 250 ms forwarder pass of the pods of one partition' },
  { label: '256 KiB', bytes: 256 * 1024, why: 'an SDK batch (500 records), a busy node’s pass' },
  { label: '1 MiB', bytes: 1024 * 1024, why: 'catch-up (1 MiB file reads); the topic’s max.message.bytes' },
] as const;

const say = (line: string): void => console.log(`[bench] ${line}`);
const format = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

// ---------------------------------------------------------------------------------------
// The corpus: one node's container logs, as files, read back the forwarder's way.

const random = prng(20261125);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
// Ids are random in real logs too, and they are what doesn't compress: leaving them out would flatter every codec.
const hex = (length: number): string => {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
};
const ip = (): string => `10.42.${int(0, 7)}.${int(2, 254)}`;

interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'okhttp/4.12.0',
  'kube-probe/1.31',
];
const ROUTES = ['/api/cart', '/api/cart/items', '/api/checkout', '/api/orders/{id}', '/api/payments/authorize', '/api/products/search?q={q}&page={n}', '/api/products/{id}', '/healthz'];
const route = (): string =>
  pick(ROUTES)
    .replace('{id}', String(int(10_000, 999_999)))
    .replace('{q}', pick(['shoes', 'rain+jacket', 'usb-c+cable', 'desk+lamp', 'socks']))
    .replace('{n}', String(int(1, 9)));

const JAVA_FRAMES = [
  'org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)',
  'org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)',
  'org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:195)',
  'org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:167)',
  'org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:391)',
  'io.micrometer.observation.Observation.observe(Observation.java:565)',
  'com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)',
  'org.hibernate.engine.jdbc.internal.ResultSetReturnImpl.extract(ResultSetReturnImpl.java:57)',
  'com.example.payments.gateway.GatewayClient.authorize(GatewayClient.java:{n})',
  'com.example.payments.AuthorizationService.authorize(AuthorizationService.java:{n})',
  'java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1144)',
  'java.base/java.lang.Thread.run(Thread.java:1583)',
];
const javaStack = (): string => {
  const frames = Array.from({ length: int(35, 90) }, () => `\tat ${pick(JAVA_FRAMES).replace('{n}', String(int(40, 400)))}`);
  return `com.example.payments.gateway.GatewayTimeoutException: gateway did not answer within 2000 ms (acquirer=${pick(['adyen', 'stripe', 'worldpay'])})\n${frames.join('\n')}\nCaused by: java.net.SocketTimeoutException: Read timed out\n${frames.slice(0, 12).join('\n')}\n\t... ${int(20, 60)} common frames omitted`;
};

/** An app: how its lines look, how often it writes, how many pods, which runtime writes its files. */
interface App {
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly pods: number;
  /** Share of the node's lines. */
  readonly weight: number;
  readonly format: LogFormat;
  /** The next line(s) one pod writes at `at`: some apps write a stack trace as many lines. */
  readonly lines: (at: Date, pod: string) => LogLine[];
}

const APPS: App[] = [
  {
    // Node.js with pino: JSON request logs, 300–500 bytes; now and then an error with its stack in one line.
    namespace: 'checkout',
    name: 'checkout-api',
    container: 'api',
    pods: 4,
    weight: 30,
    format: 'cri',
    lines: (at, pod) => {
      const base = { level: 30, time: at.getTime(), pid: 1, hostname: pod, reqId: `req-${hex(12)}` };
      if (random() < 0.004) {
        const err = { type: 'FetchError', message: 'request to http://payments.payments.svc:8080/authorize failed, reason: socket hang up', stack: `FetchError: request to http://payments.payments.svc:8080/authorize failed\n${Array.from({ length: int(12, 30) }, () => `    at ${pick(['ClientRequest.<anonymous>', 'Socket.socketOnEnd', 'process.processTicksAndRejections', 'async PaymentsClient.authorize', 'async CheckoutService.placeOrder'])} (/app/dist/${pick(['payments-client', 'checkout-service', 'node:internal/streams'])}.js:${int(10, 900)}:${int(3, 60)})`).join('\n')}` };
        return [{ stream: 'stdout', text: JSON.stringify({ ...base, level: 50, err, orderId: int(100_000, 999_999), msg: 'could not place order' }) }];
      }
      if (random() < 0.3) return [{ stream: 'stdout', text: JSON.stringify({ ...base, req: { method: pick(['GET', 'POST']), url: route() }, msg: 'incoming request' }) }];
      return [{
        stream: 'stdout',
        text: JSON.stringify({ ...base, req: { method: pick(['GET', 'GET', 'POST', 'PUT']), url: route(), host: 'shop.example.com', remoteAddress: ip(), remotePort: int(30_000, 65_000), userAgent: pick(AGENTS) }, res: { statusCode: pick([200, 200, 200, 201, 204, 304, 404, 500]) }, responseTime: int(1, 2500) / 10, traceId: hex(32), msg: 'request completed' }),
      }];
    },
  },
  {
    // Spring Boot with logstash-logback-encoder on a docker node: JSON, 350–500 bytes; errors carry 4–10 KiB stack traces.
    namespace: 'payments',
    name: 'payments-service',
    container: 'payments',
    pods: 3,
    weight: 15,
    format: 'docker',
    lines: (at) => {
      const error = random() < 0.01;
      const amount = `${int(1, 400)}.${String(int(0, 99)).padStart(2, '0')}`;
      return [{
        stream: error ? 'stderr' : 'stdout',
        text: JSON.stringify({
          '@timestamp': at.toISOString(),
          '@version': '1',
          message: error ? `Authorization failed for order ${int(100_000, 999_999)}` : pick([`Authorized payment ${hex(24)} for order ${int(100_000, 999_999)} amount=${amount} EUR`, `Captured payment ${hex(24)} amount=${amount} EUR`, `Refund ${hex(16)} queued for order ${int(100_000, 999_999)}`, 'HikariPool-1 - Pool stats (total=20, active=3, idle=17, waiting=0)']),
          logger_name: pick(['com.example.payments.AuthorizationService', 'com.example.payments.CaptureJob', 'com.zaxxer.hikari.pool.HikariPool', 'com.example.payments.web.PaymentController']),
          thread_name: `http-nio-8080-exec-${int(1, 40)}`,
          level: error ? 'ERROR' : pick(['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN']),
          level_value: error ? 40000 : 20000,
          traceId: hex(32),
          spanId: hex(16),
          ...(error ? { stack_trace: javaStack() } : {}),
        }),
      }];
    },
  },
  {
    // ingress-nginx: access log text, ~300 bytes, and a few short error lines on stderr.
    namespace: 'edge',
    name: 'ingress-nginx-controller',
    container: 'controller',
    pods: 2,
    weight: 25,
    format: 'cri',
    lines: (at) => {
      if (random() < 0.02) return [{ stream: 'stderr', text: `${at.toISOString().slice(0, 19).replace('T', ' ').replaceAll('-', '/')} [error] ${int(20, 40)}#${int(20, 40)}: *${int(1e5, 1e7)} upstream timed out (110: Operation timed out) while reading response header from upstream, client: ${ip()}, server: shop.example.com, request: "GET ${route()} HTTP/2.0", upstream: "http://${ip()}:8080${route()}", host: "shop.example.com"` }];
      const status = pick([200, 200, 200, 200, 201, 301, 304, 404, 499, 502]);
      const size = int(0, 40_000);
      const took = (int(1, 3000) / 1000).toFixed(3);
      return [{ stream: 'stdout', text: `${ip()} - - [${at.toUTCString().slice(5, 25).replaceAll(' ', '/').replace(/\/(\d\d:)/, ':$1')} +0000] "${pick(['GET', 'GET', 'GET', 'POST'])} ${route()} HTTP/2.0" ${status} ${size} "https://shop.example.com/" "${pick(AGENTS)}" ${int(200, 900)} ${took} [checkout-checkout-api-8080] [] ${ip()}:8080 ${size} ${took} ${status} ${hex(32)}` }];
    },
  },
  {
    // A Go controller (klog) and indexer (logfmt): short lines, 80–180 bytes.
    namespace: 'search',
    name: 'search-indexer',
    container: 'indexer',
    pods: 3,
    weight: 20,
    format: 'cri',
    lines: (at) => {
      const clock = at.toISOString().slice(11, 23) + String(int(0, 999)).padStart(3, '0');
      if (random() < 0.5) return [{ stream: 'stderr', text: `I1125 ${clock}       1 ${pick(['indexer.go', 'controller.go', 'shard.go'])}:${int(40, 400)}] "${pick(['Indexed batch', 'Reconciled', 'Refreshed mapping', 'Flushed segment'])}" shard=${int(0, 11)} docs=${int(1, 2048)} took="${int(1, 900) / 10}ms"` }];
      return [{ stream: 'stdout', text: `level=${pick(['info', 'info', 'info', 'debug', 'warn'])} ts=${at.toISOString()} caller=${pick(['worker.go', 'merge.go', 'http.go'])}:${int(20, 300)} msg="${pick(['flushed segment', 'merged segments', 'served query', 'cache evicted'])}" segment=${String(int(0, 99_999)).padStart(6, '0')} bytes=${int(1, 1 << 24)}` }];
    },
  },
  {
    // A Python worker on a docker node: plain text; tracebacks are many lines; now and then a payload dump of 5–40 KiB (runtime-split past 16 KiB).
    namespace: 'reports',
    name: 'report-worker',
    container: 'worker',
    pods: 2,
    weight: 10,
    format: 'docker',
    lines: (at) => {
      const stamp = `${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 19)},${String(at.getUTCMilliseconds()).padStart(3, '0')}`;
      const r = random();
      if (r < 0.003) {
        const rows = Array.from({ length: int(40, 300) }, () => ({ account: int(1000, 99_999), sku: `SKU-${hex(8).toUpperCase()}`, qty: int(1, 20), net: int(100, 99_999) / 100, currency: 'EUR' }));
        return [{ stream: 'stdout', text: `${stamp} DEBUG [report_worker.export] payload=${JSON.stringify({ report: int(1, 99_999), rows })}` }];
      }
      if (r < 0.008) {
        const frames = Array.from({ length: int(4, 12) }, () => [`  File "/app/report_worker/${pick(['tasks', 'export', 'db', 'render'])}.py", line ${int(10, 600)}, in ${pick(['run', 'export_rows', 'fetch', 'render_pdf', '_execute'])}`, `    ${pick(['rows = cursor.fetchall()', 'return self._render(template, ctx)', 'raise ReportError(msg) from exc', 'conn.execute(query, params)'])}`]).flat();
        return ['Traceback (most recent call last):', ...frames, `psycopg.errors.QueryCanceled: canceling statement due to statement timeout (report ${int(1, 99_999)})`].map((text) => ({ stream: 'stderr' as const, text }));
      }
      return [{ stream: 'stdout', text: `${stamp} ${pick(['INFO', 'INFO', 'INFO', 'WARNING'])} [report_worker.tasks] ${pick([`Generated report ${int(1, 99_999)} for account ${int(1000, 99_999)} in ${int(1, 9000) / 1000}s`, `Picked task ${hex(32)} from queue reports.default`, `Uploaded s3://reports-eu/${hex(8)}/${int(1, 99_999)}.pdf (${int(10, 9000)} KiB)`])}` }];
    },
  },
];

interface Pod {
  readonly app: App;
  readonly name: string;
  readonly topic: string;
  readonly source: SourceFile;
  readonly assembler: LineAssembler;
  offset: number;
}

interface CorpusRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  readonly value: Buffer;
}

/** The file lines a runtime writes for one log line: one, or several chunks past 16 KiB. */
function fileLines(format: LogFormat, time: string, line: LogLine): string[] {
  const bytes = Buffer.from(line.text);
  const out: string[] = [];
  for (let at = 0; at === 0 || at < bytes.length; at += RUNTIME_SPLIT_BYTES) {
    const chunk = bytes.subarray(at, at + RUNTIME_SPLIT_BYTES).toString();
    const last = at + RUNTIME_SPLIT_BYTES >= bytes.length;
    out.push(format === 'cri' ? `${time} ${line.stream} ${last ? 'F' : 'P'} ${chunk}` : JSON.stringify({ log: last ? `${chunk}\n` : chunk, stream: line.stream, time }));
  }
  return out;
}

/** kafkajs's default partitioner (murmur2 of the key), which the forwarder and SDK use. */
const partitionOf = (() => {
  const partition = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })) satisfies PartitionMetadata[];
  return (topic: string, key: string): number => partition({ topic, partitionMetadata, message: { key, value: null } });
})();

interface Corpus {
  readonly records: CorpusRecord[];
  readonly fileBytes: number;
  /** Lines the runtime wrote in several chunks (past 16 KiB), joined again by the assembler. */
  readonly split: number;
  /** Message sizes per app, bytes. */
  readonly messages: Map<App, number[]>;
}

function buildCorpus(): Corpus {
  const pods: Pod[] = APPS.flatMap((app, a) =>
    Array.from({ length: app.pods }, (_, p) => {
      const name = `${app.name}-${hex(10).slice(0, 9)}-${hex(5)}`;
      const uid = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
      const path = `/var/log/pods/${app.namespace}_${name}_${uid}/${app.container}/0.log`;
      const parsed = parsePodLogPath(path);
      if (!parsed.ok) throw new Error(parsed.reason);
      const identity = { dev: 66_305, ino: 1_200_000 + a * 100 + p, fingerprint: createHash('sha256').update(name).digest('hex').slice(0, 16) };
      return { app, name, topic: tenantNames(app.namespace).logsTopic, source: { node: NODE_NAME, path, container: parsed.file, identity, truncations: 0 }, assembler: new LineAssembler(), offset: 0 };
    }),
  );
  const weights = pods.map((pod) => pod.app.weight / pod.app.pods);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: CorpusRecord[] = [];
  let bytes = 0;
  let fileBytes = 0;
  let split = 0;
  const messages = new Map<App, number[]>(APPS.map((app) => [app, []]));
  const start = Date.UTC(2026, 10, 25, 10, 0, 0);
  let elapsedNs = 0; // from `start`: small enough for a double to count nanoseconds exactly
  while (bytes < CORPUS_BYTES) {
    let r = random() * total;
    let i = 0;
    while (i < pods.length - 1 && (r -= weights[i] as number) > 0) i++;
    const pod = pods[i] as Pod;
    elapsedNs += int(50_000, 900_000);
    const at = new Date(start + Math.floor(elapsedNs / 1e6));
    const time = `${at.toISOString().slice(0, 19)}.${String(elapsedNs % 1e9).padStart(9, '0')}Z`;
    for (const line of pod.app.lines(at, pod.name)) {
      const written = fileLines(pod.app.format, time, line);
      if (written.length > 1) split++;
      for (const text of written) {
        // What the forwarder does with each line of the file: parse, reassemble, envelope.
        const raw = Buffer.from(text);
        const parsed = parseLine(detectFormat(raw), raw);
        if (!parsed.ok) throw new Error(`generated a line the forwarder can't parse: ${parsed.reason}`);
        for (const assembled of pod.assembler.push(parsed.chunk, pod.offset)) {
          const { key, value } = lineRecord(assembled, pod.source);
          out.push({ topic: pod.topic, partition: partitionOf(pod.topic, key), key, value });
          bytes += value.length;
          messages.get(pod.app)?.push(Buffer.byteLength(assembled.message));
        }
        pod.offset += raw.length + 1;
        fileBytes += raw.length + 1;
      }
    }
  }
  return { records: out, fileBytes, split, messages };
}

// ---------------------------------------------------------------------------------------
// Batches as kafkajs builds them: a produce request holds one record batch per topic
// partition, and the codec compresses that batch's encoded records (RecordBatch v2) whole.

const require = createRequire(import.meta.url);
interface KafkajsEncoder {
  readonly buffer: Buffer;
  writeEncoderArray(items: KafkajsEncoder[]): KafkajsEncoder;
}
// kafkajs's own record encoding (not exported): the codec is handed exactly these bytes.
const Encoder = require('kafkajs/src/protocol/encoder') as new () => KafkajsEncoder;
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: { offsetDelta: number; timestampDelta: number; key: string; value: Buffer }) => KafkajsEncoder;

interface Batch {
  readonly records: number;
  /** The batch's records, encoded: the input of the codec. */
  readonly encoded: Buffer;
}

/** Each topic partition's records in the order they were written, cut into batches of about `target` encoded bytes. */
function batches(corpus: readonly CorpusRecord[], target: number): Batch[] {
  const streams = new Map<string, CorpusRecord[]>();
  for (const record of corpus) {
    const id = `${record.topic}/${record.partition}`;
    const list = streams.get(id);
    if (list) list.push(record);
    else streams.set(id, [record]);
  }
  const out: Batch[] = [];
  for (const list of streams.values()) {
    let pending: KafkajsEncoder[] = [];
    let size = 0;
    const close = (): void => {
      out.push({ records: pending.length, encoded: new Encoder().writeEncoderArray(pending).buffer });
      pending = [];
      size = 0;
    };
    for (const record of list) {
      // One send's records share a timestamp (kafkajs stamps them at send): delta 0.
      const encode = (): KafkajsEncoder => encodeRecord({ offsetDelta: pending.length, timestampDelta: 0, key: record.key, value: record.value });
      let encoded = encode();
      if (pending.length > 0 && size + encoded.buffer.length > target) {
        close();
        encoded = encode();
      }
      pending.push(encoded);
      size += encoded.buffer.length;
    }
    if (pending.length > 0) close();
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Codecs, through their synchronous entry points: the same code as the async ones kafkajs
// calls (those run on libuv's pool), timed on one thread, so figures are per core.

interface Codec {
  readonly name: string;
  readonly compress?: (input: Buffer) => Buffer;
  readonly decompress?: (input: Buffer) => Buffer;
  /** Why it isn't measured, when it isn't. */
  readonly unavailable?: string;
}

function optionalSnappy(): Codec {
  try {
    // Not a dependency: measured only if something else already installed it.
    const snappy = require('snappy') as { compressSync(input: Buffer): Buffer; uncompressSync(input: Buffer): Buffer };
    return { name: 'snappy', compress: (b) => snappy.compressSync(b), decompress: (b) => snappy.uncompressSync(b) };
  } catch {
    return { name: 'snappy', unavailable: 'not installed (and kafkajs ships no snappy codec); no dependency added' };
  }
}

function optionalZstd(): Codec {
  // node:zlib has zstd from Node 22.15 / 23.8; @types/node 20 doesn't know it.
  const z = zlib as unknown as { zstdCompressSync?: (input: Buffer) => Buffer; zstdDecompressSync?: (input: Buffer) => Buffer };
  const { zstdCompressSync, zstdDecompressSync } = z;
  if (!zstdCompressSync || !zstdDecompressSync) return { name: 'zstd', unavailable: `n/a on Node ${process.version} (node:zlib has zstd from 22.15 / 23.8; @kafkajs/zstd doesn't build here)` };
  return { name: 'zstd (node:zlib, level 3)', compress: (b) => zstdCompressSync(b), decompress: (b) => zstdDecompressSync(b) };
}

const CODECS: Codec[] = [
  { name: 'none' },
  // kafkajs's built-in GZIP: zlib.gzip at zlib's default level (6), zlib.unzip.
  { name: 'gzip (kafkajs, level 6)', compress: (b) => zlib.gzipSync(b), decompress: (b) => zlib.unzipSync(b) },
  // What packages/kafka registers: lz4-napi's LZ4 frame, default options.
  { name: 'lz4 (lz4-napi, shipped)', compress: (b) => lz4.compressFrameSync(b), decompress: (b) => lz4.decompressFrameSync(b) },
  optionalSnappy(),
  optionalZstd(),
];

interface Measured {
  readonly ratio: number;
  readonly compressedBytes: number;
  readonly compressMBps: number;
  readonly decompressMBps: number;
  readonly compressUsPerRecord: number;
  readonly decompressUsPerRecord: number;
}

/** The fastest of REPEATS passes over every batch: wall time, and the process's CPU in that pass. */
function timed(pass: () => void): { seconds: number; cpuUs: number } {
  let best = { seconds: Number.POSITIVE_INFINITY, cpuUs: 0 };
  for (let i = 0; i < REPEATS; i++) {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    pass();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    if (seconds < best.seconds) best = { seconds, cpuUs: used.user + used.system };
  }
  return best;
}

function measure(codec: Codec, list: readonly Batch[]): Measured | undefined {
  const { compress, decompress } = codec;
  if (!compress || !decompress) return undefined;
  const rawBytes = list.reduce((n, b) => n + b.encoded.length, 0);
  const count = list.reduce((n, b) => n + b.records, 0);
  // Also the warm-up, and the proof that every batch comes back byte for byte.
  const compressed = list.map((b) => compress(b.encoded));
  list.forEach((b, i) => {
    if (!decompress(compressed[i] as Buffer).equals(b.encoded)) throw new Error(`${codec.name}: a batch did not decompress to what was compressed`);
  });
  const compressedBytes = compressed.reduce((n, c) => n + c.length, 0);
  const c = timed(() => {
    for (const b of list) compress(b.encoded);
  });
  const d = timed(() => {
    for (const b of compressed) decompress(b);
  });
  return {
    ratio: rawBytes / compressedBytes,
    compressedBytes,
    compressMBps: rawBytes / 1e6 / c.seconds,
    decompressMBps: rawBytes / 1e6 / d.seconds,
    compressUsPerRecord: c.cpuUs / count,
    decompressUsPerRecord: d.cpuUs / count,
  };
}

/** A Markdown table (pastes into docs/compression.md as it is): the first `text` columns left-aligned, figures right-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[], text = 1): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i < text ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < text ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------------------------------
// End to end: the forwarder's producer settings against the real broker.

/** Sockets kafkajs opened: their `bytesWritten` is what went on the wire to the broker. */
const sockets: Socket[] = [];
const bytesWritten = (): number => sockets.reduce((n, s) => n + s.bytesWritten, 0);

interface EndToEnd {
  readonly codec: string;
  readonly recordsPerSecond: number;
  readonly valueMBps: number;
  readonly wireBytes: number;
  readonly valueBytes: number;
  readonly cpuSeconds: number;
  readonly seconds: number;
}

async function endToEnd(brokers: string[], corpus: readonly CorpusRecord[]): Promise<EndToEnd[]> {
  // createKafka's settings, plus a socket factory: kafkajs 2.2.4 has no DescribeLogDirs
  // (its request table marks it not implemented), so the bytes are counted where they leave.
  const kafka = new Kafka({
    clientId: 'bench-compression',
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    logLevel: logLevel.ERROR,
    socketFactory: ({ host, port, onConnect }) => {
      const socket = connect({ host, port }, onConnect);
      socket.setKeepAlive(true, 60_000);
      sockets.push(socket);
      return socket;
    },
  });
  const admin = kafka.admin();
  await admin.connect();
  const run = Math.random().toString(16).slice(2, 8);
  // The forwarder sends each tenant's records in a request of their own, so a batch holds one
  // app's lines: sent tenant by tenant (a stable sort keeps each tenant's order), not mixed.
  const ordered = [...corpus].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  const results: EndToEnd[] = [];
  const codecs = [
    { name: 'none', type: CompressionTypes.None },
    { name: 'gzip', type: CompressionTypes.GZIP },
    { name: 'lz4', type: CompressionTypes.LZ4 },
  ];
  try {
    for (const codec of codecs) {
      const tenant = `bench-zip-${run}-${codec.name}`;
      const topic = tenantNames(tenant).logsTopic;
      // A tenant's logs topic as the control plane creates it: 3 partitions, 1 MiB max.message.bytes.
      const definition = tenantTopics(tenant).filter((t) => t.topic === topic);
      await admin.createTopics({ topics: definition, waitForLeaders: true });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      try {
        await producer.connect();
        const message = (i: number): Message => {
          const record = ordered[i % ordered.length] as CorpusRecord;
          return { key: record.key, value: record.value };
        };
        // Untimed: metadata, producer id, the first connection to the leader.
        await producer.send({ topic, acks: -1, compression: codec.type, messages: Array.from({ length: SEND_RECORDS }, (_, i) => message(i)) });
        let valueBytes = 0;
        const wire = bytesWritten();
        const cpu = process.cpuUsage();
        const started = process.hrtime.bigint();
        for (let sent = 0; sent < records; sent += SEND_RECORDS) {
          const messages = Array.from({ length: Math.min(SEND_RECORDS, records - sent) }, (_, i) => message(SEND_RECORDS + sent + i));
          for (const m of messages) valueBytes += (m.value as Buffer).length;
          await producer.send({ topic, acks: -1, compression: codec.type, messages });
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const used = process.cpuUsage(cpu);
        const wireBytes = bytesWritten() - wire;
        const stored = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
        if (stored !== records + SEND_RECORDS) throw new Error(`${topic} holds ${stored} records, expected ${records + SEND_RECORDS}`);
        results.push({ codec: codec.name, recordsPerSecond: records / seconds, valueMBps: valueBytes / 1e6 / seconds, wireBytes, valueBytes, cpuSeconds: (used.user + used.system) / 1e6, seconds });
        say(`${codec.name}: ${format(records)} records in ${seconds.toFixed(1)} s`);
      } finally {
        await producer.disconnect();
        await admin.deleteTopics({ topics: [topic] }).catch((err: unknown) => say(`could not delete ${topic}: ${String(err)}`));
      }
    }
  } finally {
    await admin.disconnect();
  }
  return results;
}

// ---------------------------------------------------------------------------------------

// Read beside each package's entry point: lz4-napi's `exports` hides its package.json.
const versionOf = (name: string): string => (JSON.parse(readFileSync(join(dirname(require.resolve(name)), 'package.json'), 'utf8')) as { version: string }).version;
say(`Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), kafkajs ${versionOf('kafkajs')}, lz4-napi ${versionOf('lz4-napi')}`);

const corpus = buildCorpus();
const valueBytes = corpus.records.reduce((n, r) => n + r.value.length, 0);
const quantiles = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): string => format(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return `${at(0.5)} / ${at(0.99)} / ${at(1)}`;
};
say(`corpus: ${format(corpus.records.length)} records, ${mb(valueBytes)} MB of envelopes, read from ${mb(corpus.fileBytes)} MB of container log files (${format(corpus.split)} lines split by the runtime past 16 KiB)\n`);
table(
  ['app (namespace)', 'file format', 'pods', 'records', 'message bytes p50 / p99 / max', 'over 2 KiB'],
  [
    ...APPS.map((app) => {
      const sizes = corpus.messages.get(app) ?? [];
      return [`${app.name} (${app.namespace})`, app.format, String(app.pods), format(sizes.length), quantiles(sizes), format(sizes.filter((n) => n > 2048).length)];
    }),
    ['envelopes (all)', '', '', format(corpus.records.length), quantiles(corpus.records.map((r) => r.value.length)), format(corpus.records.filter((r) => r.value.length > 2048).length)],
  ],
  2,
);
console.log('');

// The sync call must be the codec the services ship: same frame, byte for byte.
{
  const sample = batches(corpus.records.slice(0, 2000), 256 * 1024)[0] as Batch;
  const shipped = CompressionCodecs[CompressionTypes.LZ4]() as { compress(encoder: { buffer: Buffer }): Promise<Buffer> };
  if (!(await shipped.compress({ buffer: sample.encoded })).equals(lz4.compressFrameSync(sample.encoded))) throw new Error('lz4-napi compressFrameSync differs from the registered LZ4 codec');
}

if (dumpFile) {
  writeFileSync(dumpFile, Buffer.concat(batches(corpus.records, Number.POSITIVE_INFINITY).map((b) => b.encoded)));
  say(`wrote the encoded records to ${dumpFile}`);
}

const rows: string[][] = [];
for (const size of BATCH_SIZES) {
  const list = batches(corpus.records, size.bytes);
  const raw = list.reduce((n, b) => n + b.encoded.length, 0);
  say(`${size.label} batches (${size.why}): ${format(list.length)} batches, ${format(corpus.records.length / list.length)} records each on average`);
  for (const codec of CODECS) {
    if (codec.unavailable) continue;
    const m = measure(codec, list);
    if (!m) rows.push([size.label, codec.name, '1.00', mb(raw), '—', '—', '—', '—']);
    else rows.push([size.label, codec.name, m.ratio.toFixed(2), mb(m.compressedBytes), format(m.compressMBps), format(m.decompressMBps), m.compressUsPerRecord.toFixed(2), m.decompressUsPerRecord.toFixed(2)]);
  }
}
console.log(`\nCodecs on one core (${format(corpus.records.length)} records, ${mb(valueBytes)} MB of envelopes; MB = 10^6 bytes of input; fastest of ${REPEATS}):\n`);
table(['batch', 'codec', 'ratio', 'stored MB', 'compress MB/s', 'decompress MB/s', 'compress µs/record', 'decompress µs/record'], rows, 2);
for (const codec of CODECS) if (codec.unavailable) console.log(`${codec.name}: ${codec.unavailable}`);

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').map((b) => b.trim()).filter(Boolean);
if (brokers.length === 0) {
  console.log('\nEnd to end: skipped (set KAFKA_BROKERS to produce to a real broker).');
} else {
  console.log('');
  say(`end to end: ${format(records)} records per codec to ${brokers.join(',')} (idempotent, acks=-1, ${SEND_RECORDS} records of one tenant a send, ${PARTITIONS} partitions)…`);
  const results = await endToEnd(brokers, corpus.records);
  console.log(`\nEnd to end against Kafka (producer in this process; the broker shares the machine's ${availableParallelism()} cores):\n`);
  table(
    ['codec', 'records/s', 'envelope MB/s', 'on the wire MB', 'envelopes / wire', 'producer CPU s', 'CPU µs/record'],
    results.map((r) => [r.codec, format(r.recordsPerSecond), r.valueMBps.toFixed(1), mb(r.wireBytes), (r.valueBytes / r.wireBytes).toFixed(2), r.cpuSeconds.toFixed(2), ((r.cpuSeconds * 1e6) / records).toFixed(1)]),
  );
  console.log('snappy, zstd: no codec kafkajs can use here (see above)');
}
console.log(`\ncommand: npx tsx bench/compression.ts ${records}`);
