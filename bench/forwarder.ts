/**
 * The forwarder from files to Kafka: `tributary forwarder` in its own process on a root of
 * container log files written beforehand (realistic CRI and docker json-file lines, some
 * split by the runtime), timed until Kafka holds every record; its CPU per line and RSS
 * from /proc, every thread of the process counted (lz4 runs on libuv's pool, the collector
 * partly on V8's threads). Target (issue #6): ≥ 150 000 lines/s per core.
 *
 *   npx tsx bench/forwarder.ts [lines=400000] [rounds=3]
 *
 * Each round is a fresh forwarder on fresh files of a new tenant; the figures are each
 * round's and their median (CPU time on a shared VM varies by a tenth from run to run).
 * A warm-up round of a quarter of the lines goes first, not counted: against a broker that
 * just started (its JIT cold) the forwarder spends a sixth more CPU per line.
 * Starts Kafka (or uses KAFKA_BROKERS) and stops it at the end.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Admin } from 'kafkajs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { startEngines } from '@tributary/testkit';
import { peakRssMiB, processCpuSeconds, threadCpuSeconds } from './proc.js';

const lines = Number(process.argv[2] ?? 400_000);
const rounds = Number(process.argv[3] ?? 3);
if (!Number.isSafeInteger(lines) || lines < 1000 || !Number.isSafeInteger(rounds) || rounds < 1) {
  console.error(`usage: npx tsx bench/forwarder.ts [lines=400000] [rounds=3]  (got ${process.argv.slice(2).join(' ')})`);
  process.exit(2);
}
const FILES = 8;
const CLI = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const say = (line: string): void => console.log(`[bench] ${line}`);
const format = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A web service's JSON log line, 200–400 bytes. */
function line(i: number): string {
  const level = ['info', 'info', 'info', 'warn', 'error', 'debug'][i % 6];
  return JSON.stringify({ time: new Date(Date.UTC(2026, 10, 25, 10, 0, 0, i)).toISOString(), level, logger: 'http', msg: `handled request GET /api/orders/${10_000 + (i % 90_000)}`, status: 200 + (i % 5), duration_ms: (i % 2500) / 10, request_id: `req-${(i * 2654435761).toString(16)}`, trace_id: `${(i * 40503).toString(16).padStart(32, '0')}`, user_agent: i % 3 === 0 ? 'okhttp/4.12.0' : 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' });
}

/** What one round measured. */
interface Round {
  readonly bytes: number;
  readonly totalS: number;
  readonly firstS: number;
  readonly steadyS: number;
  /** Forwarder CPU seconds from the first record in Kafka to the last. */
  readonly cpuS: number;
  readonly threads: ReadonlyArray<readonly [string, number]>;
  readonly rssBytes: number;
}

/** Writes the files of a new tenant, runs a forwarder on them until Kafka has every line, and measures it. */
async function round(brokers: string[], admin: Admin, lines: number): Promise<Round> {
  const tenant = `bench-fwd-${Math.random().toString(16).slice(2, 10)}`;
  const scratch = mkdtempSync(join(tmpdir(), 'bench-forwarder-'));
  const root = join(scratch, 'pods');
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const dir = join(root, `${tenant}_web-${f}_${String(f).padStart(8, '0')}-0d3e-4a8b-9c51-2b7e00000000`, 'web');
    mkdirSync(dir, { recursive: true });
    const docker = f % 2 === 1;
    const out: string[] = [];
    for (let i = f; i < lines; i += FILES) {
      const text = line(i);
      const time = '2026-11-25T10:00:00.123456789Z';
      if (i % 50 === 0) {
        const cut = Math.floor(text.length / 2);
        out.push(docker ? JSON.stringify({ log: text.slice(0, cut), stream: 'stdout', time }) : `${time} stdout P ${text.slice(0, cut)}`);
        out.push(docker ? JSON.stringify({ log: `${text.slice(cut)}\n`, stream: 'stdout', time }) : `${time} stdout F ${text.slice(cut)}`);
      } else out.push(docker ? JSON.stringify({ log: `${text}\n`, stream: 'stdout', time }) : `${time} stdout F ${text}`);
    }
    const body = `${out.join('\n')}\n`;
    bytes += Buffer.byteLength(body);
    writeFileSync(join(dir, '0.log'), body);
  }
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 6 }));
  const topic = `logs.${tenant}`;
  const produced = async (): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const started = Date.now();
  // BENCH_NODE_OPTIONS: e.g. --cpu-prof to profile the forwarder.
  const child = spawn(process.execPath, [...(process.env['BENCH_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean), CLI, 'forwarder', '--root', root, '--node', 'bench-node', '--state-dir', join(scratch, 'state'), '--metrics-port', '0'], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), LOG_LEVEL: 'warn' },
    // BENCH_CHILD_STDOUT=1 shows what such flags print (--trace-gc writes to stdout).
    stdio: ['ignore', process.env['BENCH_CHILD_STDOUT'] ? 'inherit' : 'ignore', 'inherit'],
  });
  // Killed or failing, the bench takes its forwarder with it.
  const killChild = (): void => void child.kill('SIGKILL');
  process.once('exit', killChild);
  try {
    const pid = child.pid as number;
    const cpu = (): number => processCpuSeconds(pid);
    const threads = (): Map<string, number> => threadCpuSeconds(pid);
    let firstAt: number | undefined;
    let cpuAtFirst = 0;
    let threadsAtFirst = new Map<string, number>();
    let count = 0;
    while (count < lines) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      count = await produced();
      if (count > 0 && firstAt === undefined) {
        firstAt = Date.now();
        cpuAtFirst = cpu();
        threadsAtFirst = threads();
      }
      if (Date.now() - started > 600_000) throw new Error(`only ${count} of ${lines} records after 10 min`);
    }
    const doneAt = Date.now();
    const cpuS = cpu() - cpuAtFirst;
    const threadsS = [...threads()].map(([name, t]) => [name, t - (threadsAtFirst.get(name) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
    const rssBytes = peakRssMiB(pid) * 1024 * 1024;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await admin.deleteTopics({ topics: [topic, `dlq.${tenant}`] }).catch(() => undefined);
    return { bytes, totalS: (doneAt - started) / 1000, firstS: ((firstAt ?? started) - started) / 1000, steadyS: (doneAt - (firstAt ?? started)) / 1000, cpuS, threads: threadsS, rssBytes };
  } finally {
    process.removeListener('exit', killChild);
    killChild();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const engines = await startEngines({ elasticsearch: false, schemaRegistry: false });
const kafka = createKafka({ brokers: engines.kafka.brokers, clientId: 'bench-forwarder' }, pino({ level: 'silent' }));
const admin = kafka.admin();
await admin.connect();
try {
  say(`warm-up round (not counted): ${format(lines / 4)} lines…`);
  await round(engines.kafka.brokers, admin, Math.floor(lines / 4));
  const results: Round[] = [];
  for (let r = 1; r <= rounds; r++) {
    say(`round ${r} of ${rounds}: ${format(lines)} lines in ${FILES} files (half CRI, half docker json-file; every 50th line split by the runtime)…`);
    const result = await round(engines.kafka.brokers, admin, lines);
    results.push(result);
    say(`round ${r}: ${((result.cpuS * 1e6) / lines).toFixed(2)} µs/line, ${format(lines / result.steadyS)} lines/s`);
  }
  const { bytes } = results[0] as Round;
  const perLine = (r: Round): number => (r.cpuS * 1e6) / lines;
  const middle = results.find((r) => perLine(r) === median(results.map(perLine))) as Round;
  console.log(`\nforwarder, ${format(lines)} lines, ${rounds} rounds after a warm-up — npx tsx bench/forwarder.ts ${lines} ${rounds}`);
  const info = engines.engines.find((e) => e.name === 'kafka');
  console.log(`kafka ${info?.version ?? ''} (${info?.mode ?? ''}); this machine: ${availableParallelism()} CPUs; Node ${process.version}\n`);
  console.log('| figure | median | rounds |\n|---|---|---|');
  const row = (figure: string, of: (r: Round) => number, show: (n: number) => string): void => console.log(`| ${figure} | ${show(median(results.map(of)))} | ${results.map((r) => show(of(r))).join(' · ')} |`);
  console.log(`| input | ${format(lines)} lines in ${FILES} files, ${(bytes / 1e6).toFixed(1)} MB (${Math.round(bytes / lines)} B per line with its CRI/docker framing) | |`);
  row('start → first record in Kafka', (r) => r.firstS, (n) => `${n.toFixed(1)} s`);
  row('start → every record in Kafka', (r) => r.totalS, (n) => `${n.toFixed(1)} s`);
  row('steady: first → last record, lines/s', (r) => lines / r.steadyS, format);
  row('steady, MB/s', (r) => bytes / 1e6 / r.steadyS, (n) => n.toFixed(1));
  row('forwarder CPU, µs/line', perLine, (n) => n.toFixed(2));
  row('**lines per CPU-second** (target ≥ 150,000)', (r) => lines / r.cpuS, format);
  row('forwarder CPU, % of one core', (r) => (r.cpuS / r.steadyS) * 100, (n) => `${Math.round(n)} %`);
  row('forwarder peak RSS', (r) => r.rssBytes, (n) => `${Math.round(n / 2 ** 20)} MiB`);
  const main = middle.threads.find(([name]) => name === 'main')?.[1] ?? 0;
  console.log(`| CPU by thread (median round), µs/line | main ${((main * 1e6) / lines).toFixed(2)}, the ${middle.threads.length - 1} others ${(((middle.cpuS - main) * 1e6) / lines).toFixed(2)} (${middle.threads.filter(([name, t]) => name !== 'main' && t > 0.005).map(([, t]) => ((t * 1e6) / lines).toFixed(2)).join(', ')}) | |`);
  console.log('');
} finally {
  await admin.disconnect();
  await engines.stop();
}
