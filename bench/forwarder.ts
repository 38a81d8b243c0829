/**
 * The forwarder from files to Kafka: `tributary forwarder` in its own process on a root of
 * container log files written beforehand (realistic CRI and docker json-file lines, some
 * split by the runtime), timed until Kafka holds every record; its CPU per line and RSS
 * from /proc. Target (issue #6): ≥ 150 000 lines/s per core.
 *
 *   npx tsx bench/forwarder.ts [lines=400000]
 *
 * Starts Kafka (or uses KAFKA_BROKERS) and stops it at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { startEngines } from '@tributary/testkit';

const lines = Number(process.argv[2] ?? 400_000);
if (!Number.isSafeInteger(lines) || lines < 1000) {
  console.error(`usage: npx tsx bench/forwarder.ts [lines=400000]  (got ${process.argv[2]})`);
  process.exit(2);
}
const FILES = 8;
const CLI = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const tenant = `bench-fwd-${Math.random().toString(16).slice(2, 10)}`;
const say = (line: string): void => console.log(`[bench] ${line}`);
const format = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A web service's JSON log line, 200–400 bytes. */
function line(i: number): string {
  const level = ['info', 'info', 'info', 'warn', 'error', 'debug'][i % 6];
  return JSON.stringify({ time: new Date(Date.UTC(2026, 10, 25, 10, 0, 0, i)).toISOString(), level, logger: 'http', msg: `handled request GET /api/orders/${10_000 + (i % 90_000)}`, status: 200 + (i % 5), duration_ms: (i % 2500) / 10, request_id: `req-${(i * 2654435761).toString(16)}`, trace_id: `${(i * 40503).toString(16).padStart(32, '0')}`, user_agent: i % 3 === 0 ? 'okhttp/4.12.0' : 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' });
}

const scratch = mkdtempSync(join(tmpdir(), 'bench-forwarder-'));
const root = join(scratch, 'pods');
let bytes = 0;
say(`writing ${format(lines)} lines to ${FILES} files (half CRI, half docker json-file; every 50th line split by the runtime)…`);
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

const engines = await startEngines({ elasticsearch: false, schemaRegistry: false });
const kafka = createKafka({ brokers: engines.kafka.brokers, clientId: 'bench-forwarder' }, pino({ level: 'silent' }));
const admin = kafka.admin();
await admin.connect();
try {
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 6 }));
  const topic = `logs.${tenant}`;
  const produced = async (): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const started = Date.now();
  // BENCH_NODE_OPTIONS: e.g. --cpu-prof to profile the forwarder.
  const child = spawn(process.execPath, [...(process.env['BENCH_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean), CLI, 'forwarder', '--root', root, '--node', 'bench-node', '--state-dir', join(scratch, 'state'), '--metrics-port', '0'], {
    env: { ...process.env, KAFKA_BROKERS: engines.kafka.brokers.join(','), LOG_LEVEL: 'warn' },
    // BENCH_CHILD_STDOUT=1 shows what such flags print (--trace-gc writes to stdout).
    stdio: ['ignore', process.env['BENCH_CHILD_STDOUT'] ? 'inherit' : 'ignore', 'inherit'],
  });
  // Killed or failing, the bench takes its forwarder with it.
  const killChild = (): void => void child.kill('SIGKILL');
  process.once('exit', killChild);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const cpu = (): number => {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  };
  /** CPU seconds by thread name (the main thread is "node"; lz4 runs on libuv's pool, GC helpers are V8's). */
  const threads = (): Map<string, number> => {
    const by = new Map<string, number>();
    for (const task of readdirSync(`/proc/${child.pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${child.pid}/task/${task}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const kind = task === String(child.pid) ? "main" : `${name}#${task}`;
        by.set(kind, (by.get(kind) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
      } catch {
        // The thread ended.
      }
    }
    return by;
  };
  let threadsAtFirst = new Map<string, number>();
  let firstAt: number | undefined;
  let cpuAtFirst = 0;
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
  const cpuTotal = cpu();
  const threadsTotal = threads();
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rss = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) * 1024;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const steadyS = (doneAt - (firstAt ?? started)) / 1000;
  const steadyCpu = cpuTotal - cpuAtFirst;
  console.log(`\nforwarder, ${format(lines)} lines — npx tsx bench/forwarder.ts ${lines}`);
  const info = engines.engines.find((e) => e.name === 'kafka');
  console.log(`kafka ${info?.version ?? ''} (${info?.mode ?? ''}); this machine: ${availableParallelism()} CPUs; Node ${process.version}\n`);
  console.log('| figure | value |\n|---|---|');
  console.log(`| input | ${format(lines)} lines in ${FILES} files, ${(bytes / 1e6).toFixed(1)} MB on disk (${Math.round(bytes / lines)} B per line with its CRI/docker framing) |`);
  console.log(`| start → every record in Kafka | ${((doneAt - started) / 1000).toFixed(1)} s (first record after ${(((firstAt ?? started) - started) / 1000).toFixed(1)} s) |`);
  console.log(`| steady: first → last record | ${format(lines / steadyS)} lines/s, ${(bytes / 1e6 / steadyS).toFixed(1)} MB/s |`);
  console.log(`| forwarder CPU, steady | ${((steadyCpu * 1e6) / lines).toFixed(1)} µs/line, ${Math.round((steadyCpu / steadyS) * 100)} % of one core → ${format(lines / steadyCpu)} lines per CPU-second (target ≥ 150,000) |`);
  const byThread = [...threadsTotal].map(([name, s]) => [name, s - (threadsAtFirst.get(name) ?? 0)] as const).filter(([, s]) => s > 0.005).sort((a, b) => b[1] - a[1]);
  console.log(`| forwarder CPU by thread, steady | ${byThread.map(([name, s]) => `${name} ${((s * 1e6) / lines).toFixed(1)} µs/line`).join(', ')} |`);
  console.log(`| forwarder peak RSS | ${Math.round(rss / 2 ** 20)} MiB |`);
  console.log('');
  await admin.deleteTopics({ topics: [topic, `dlq.${tenant}`] }).catch(() => undefined);
} finally {
  await admin.disconnect();
  await engines.stop();
  rmSync(scratch, { recursive: true, force: true });
}
