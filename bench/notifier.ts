/**
 * The notifier (`tributary notifier`, in its own process, as it ships) against real Kafka,
 * delivering to a real receiver on loopback:
 *
 * 1. throughput: a backlog of dead letters (realistic container-log envelopes, two groups,
 *    timestamps over the last minutes) read from the start: dead letters per second and
 *    per CPU-second until every one is counted in a delivered notification;
 * 2. latency at the seed's load (250 GB/day of logs, 2.9 MB/s) with 5 % of the records
 *    dead-lettered, written live for a while: from each dead letter's write to the delivery
 *    of the notification that counts it (p50, p99, max; the window, 10 s here, the platform
 *    minimum, is most of it), and from a window's close to its delivery.
 *
 *   npx tsx bench/notifier.ts [backlog=200000] [seconds=60]
 *
 * Starts Kafka (or uses KAFKA_BROKERS) and stops it at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import kafkajs, { type Message, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { encodeEnvelope, fileEnvelopeId } from '@tributary/envelope';
import { createKafka, deadLetterMessage, ensureTopics, PIPELINES_TOPIC, tenantTopics, type DeadLetterClass } from '@tributary/kafka';
import { startWebhookReceiver, type DeadLetterNotification } from '@tributary/notify';
import { pipelineRecord, type LoggingPipeline } from '@tributary/pipeline';
import { startEngines } from '@tributary/testkit';
import { peakRssMiB, processCpuSeconds } from './proc.js';

const { CompressionTypes } = kafkajs;
const backlog = Number(process.argv[2] ?? 200_000);
const liveSeconds = Number(process.argv[3] ?? 60);
if (!Number.isSafeInteger(backlog) || backlog < 1 || !Number.isSafeInteger(liveSeconds) || liveSeconds < 1) {
  console.error(`usage: npx tsx bench/notifier.ts [backlog=200000] [seconds=60]  (got ${process.argv.slice(2).join(' ')})`);
  process.exit(2);
}
const CLI = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const WINDOW_MS = 10_000;
const PARTITIONS = 3;
/** The seed's load: 250 GB/day of log records. */
const SEED_BYTES_PER_SECOND = 250e9 / 86_400;
const POISON = 0.05;
const TICK_MS = 100;

const logger = pino({ level: 'silent' });
const say = (line: string): void => console.log(`[bench] ${line}`);
const format = (n: number): string => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Four in five dead letters fail the parse, one in five a later step: two groups. */
const classOf = (i: number): DeadLetterClass => (i % 5 === 4 ? 'schema' : 'parse');

/** A dead letter as the processor writes one: a container-log envelope that failed its pipeline. */
function deadLetter(tenant: string, i: number, at: number): Message {
  const cls = classOf(i);
  const message = `{"level":"info","time":"${new Date(at).toISOString()}","msg":"order ${1000 + i} paid","path":"/api/v1/orders/${i % 977}","status":200,"duration_ms":${i % 250},"user":"u-${i % 10_007}","trace_id":"${(i * 2_654_435_761).toString(16).padStart(16, '0')}"`;
  const value = encodeEnvelope({
    id: fileEnvelopeId('bench-node', 'checkout-0.log', i * 400),
    time: new Date(at).toISOString(),
    stream: 'stdout',
    message,
    source: { kind: 'file', node: 'bench-node', path: '/var/log/pods/payments_checkout-0_bench/api/0.log', offset: i * 400 },
    kubernetes: { namespace: tenant, pod: 'checkout-0', pod_uid: 'bench', container: 'api', labels: { app: 'checkout' } },
  });
  const letter = deadLetterMessage(
    { key: Buffer.from(`pod-${i % 12}/api`), value },
    { class: cls, message: cls === 'parse' ? 'spec.parse[0]: field "message" is not valid JSON: Unterminated string' : 'spec.transform[0]: message is not a string', pipeline: 'checkout-api', version: 1, rule: 0, topic: `logs.${tenant}`, partition: i % PARTITIONS, offset: String(i), firstFailure: new Date(at).toISOString() },
  );
  return { ...letter, timestamp: String(at) };
}

async function write(producer: Producer, tenant: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 2000) {
    await producer.send({ topic: `dlq.${tenant}`, acks: -1, compression: CompressionTypes.LZ4, messages: messages.slice(i, i + 2000) });
  }
}

const engines = await startEngines({ elasticsearch: false, schemaRegistry: false });
const brokers = engines.kafka.brokers;
const kafka = createKafka({ brokers, clientId: 'bench-notifier' }, logger);
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const receiver = await startWebhookReceiver();
let child: ChildProcess | undefined;
process.once('exit', () => void child?.kill('SIGKILL'));

try {
  const tenant = `bench-${Math.random().toString(16).slice(2, 10)}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: PARTITIONS }));
  await admin.disconnect();
  const manifest: LoggingPipeline = {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'LoggingPipeline',
    metadata: { name: 'checkout-api', namespace: tenant },
    spec: { output: { elasticsearch: { index: 'checkout' } }, deadLetter: { notify: [{ webhook: { url: receiver.url, windowSeconds: WINDOW_MS / 1000 } }] } },
  };
  await producer.send({ topic: PIPELINES_TOPIC, acks: -1, messages: [pipelineRecord(manifest, 1, new Date().toISOString())] });

  // 1. The backlog, over the ten minutes before now.
  const start = Date.now() - 10 * 60_000;
  say(`writing a backlog of ${format(backlog)} dead letters to dlq.${tenant} (${PARTITIONS} partitions)`);
  for (let i = 0; i < backlog; i += 20_000) {
    const batch: Message[] = [];
    for (let j = i; j < Math.min(backlog, i + 20_000); j++) batch.push(deadLetter(tenant, j, start + Math.floor((j / backlog) * 9 * 60_000)));
    await write(producer, tenant, batch);
  }
  const counted = (from = 0): number => {
    const seen = new Set<string>();
    let n = 0;
    for (const r of receiver.received.slice(from)) {
      const key = r.notification?.idempotencyKey;
      if (r.notification && key && !seen.has(key)) {
        seen.add(key);
        n += r.notification.count;
      }
    }
    return n;
  };
  // BENCH_NODE_OPTIONS: e.g. --cpu-prof or --heap-prof to profile the notifier.
  child = spawn(process.execPath, [...(process.env['BENCH_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean), CLI, 'notifier', '--tenants', tenant, '--group', `bench-notifier-${tenant}`, '--min-window-seconds', String(WINDOW_MS / 1000), '--metrics-port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), TRIBUTARY_NOTIFY_ALLOW: '127.0.0.1/32', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid as number;
  let output = '';
  const running = new Promise<void>((resolve) => {
    child?.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"notifier running"')) resolve();
      if (output.length > 1_000_000) output = output.slice(-100_000);
    });
  });
  await running;
  const readyAt = Date.now();
  const cpuAtReady = processCpuSeconds(pid);
  while (counted() < backlog) {
    if (Date.now() - readyAt > 600_000) throw new Error(`only ${counted()} of ${backlog} dead letters notified after 10 min`);
    await sleep(50);
  }
  const drainMs = Date.now() - readyAt;
  const drainCpu = processCpuSeconds(pid) - cpuAtReady;
  const rssAfterBacklog = peakRssMiB(pid);
  const metricsUrl = /"metrics":"([^"]+)"/.exec(output)?.[1];
  const heap = async (): Promise<string> => {
    const text = metricsUrl ? await (await fetch(`${metricsUrl}/metrics`)).text() : '';
    const mib = (name: string): string => (Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) / 2 ** 20).toFixed(0);
    return `heap used ${mib('tributary_notifier_nodejs_heap_size_used_bytes')} MiB of ${mib('tributary_notifier_nodejs_heap_size_total_bytes')}, external ${mib('tributary_notifier_nodejs_external_memory_bytes')} MiB, RSS now ${mib('tributary_notifier_process_resident_memory_bytes')} MiB`;
  };
  const heapAfterBacklog = await heap();
  const backlogNotifications = receiver.received.length;
  say(`backlog: ${format(backlog)} dead letters in ${backlogNotifications} notifications after ${(drainMs / 1000).toFixed(1)} s`);

  // 2. Live, at the seed's load with 5 % poison.
  const valueBytes = deadLetter(tenant, 0, Date.now()).value?.length ?? 600;
  const perSecond = (SEED_BYTES_PER_SECOND / valueBytes) * POISON;
  const perTick = perSecond / (1000 / TICK_MS);
  say(`live: ${format(perSecond)} dead letters/s (5 % of ${format(SEED_BYTES_PER_SECOND / valueBytes)} records/s of ${valueBytes} bytes) for ${liveSeconds} s`);
  const liveFrom = receiver.received.length;
  const written: Array<{ at: number; cls: DeadLetterClass }> = [];
  const liveStart = Date.now();
  let carry = 0;
  let next = backlog;
  const cpuAtLive = processCpuSeconds(pid);
  while (Date.now() - liveStart < liveSeconds * 1000) {
    const tickAt = Date.now();
    carry += perTick;
    const n = Math.floor(carry);
    carry -= n;
    const batch: Message[] = [];
    for (let i = 0; i < n; i++, next++) {
      batch.push(deadLetter(tenant, next, tickAt));
      written.push({ at: tickAt, cls: classOf(next) });
    }
    await write(producer, tenant, batch);
    await sleep(Math.max(0, TICK_MS - (Date.now() - tickAt)));
  }
  const liveCpu = processCpuSeconds(pid) - cpuAtLive;
  while (counted(liveFrom) < written.length) {
    if (Date.now() - liveStart > liveSeconds * 1000 + 120_000) throw new Error(`only ${counted(liveFrom)} of ${written.length} live dead letters notified`);
    await sleep(50);
  }
  // Each dead letter's latency: to the delivery of its group's notification for its window.
  const deliveredAt = new Map<string, number>();
  const closeToDelivery: number[] = [];
  for (const r of receiver.received.slice(liveFrom)) {
    const n = r.notification as DeadLetterNotification;
    if (!deliveredAt.has(`${n.class}@${n.window.from}`)) {
      deliveredAt.set(`${n.class}@${n.window.from}`, r.at);
      closeToDelivery.push(r.at - Date.parse(n.window.to));
    }
  }
  const latencies: number[] = [];
  let late = 0;
  for (const { at, cls } of written) {
    const window = new Date(Math.floor(at / WINDOW_MS) * WINDOW_MS).toISOString();
    const delivered = deliveredAt.get(`${cls}@${window}`);
    // Not in its own window: it came later than allowed and was counted in the next one.
    if (delivered === undefined) late++;
    else latencies.push(delivered - at);
  }
  latencies.sort((a, b) => a - b);
  closeToDelivery.sort((a, b) => a - b);
  const rss = peakRssMiB(pid);
  const heapAtEnd = await heap();
  child.kill('SIGTERM');
  await new Promise((resolve) => child?.once('exit', resolve));

  console.log('');
  console.log(`notifier bench: npx tsx bench/notifier.ts ${backlog} ${liveSeconds}   (window ${WINDOW_MS / 1000} s, ${PARTITIONS} partitions, one notifier process)`);
  console.log(`  backlog:  ${format(backlog)} dead letters → ${backlogNotifications} notifications in ${(drainMs / 1000).toFixed(1)} s: ${format(backlog / (drainMs / 1000))} dead letters/s, ${format(backlog / drainCpu)} per CPU-second (${((drainCpu / backlog) * 1e6).toFixed(1)} µs each)`);
  console.log(`  live:     ${format(written.length)} dead letters at ${format(perSecond)}/s (the seed's 2.9 MB/s with 5 % poison) → ${receiver.received.length - liveFrom} notifications; notifier CPU ${((liveCpu / liveSeconds) * 100).toFixed(1)} % of a core`);
  console.log(`  dead letter → notification delivered: p50 ${(percentile(latencies, 50) / 1000).toFixed(2)} s, p99 ${(percentile(latencies, 99) / 1000).toFixed(2)} s, max ${((latencies.at(-1) ?? NaN) / 1000).toFixed(2)} s (${late} counted in a later window)`);
  console.log(`  window close → delivered:              p50 ${format(percentile(closeToDelivery, 50))} ms, p99 ${format(percentile(closeToDelivery, 99))} ms (includes the 2 s allowed for late dead letters)`);
  console.log(`  notifier peak RSS ${rssAfterBacklog.toFixed(0)} MiB after the backlog (${heapAfterBacklog}), ${rss.toFixed(0)} MiB at the end (${heapAtEnd})`);
} finally {
  child?.kill('SIGKILL');
  await receiver.close();
  await producer.disconnect();
  await engines.stop();
}
