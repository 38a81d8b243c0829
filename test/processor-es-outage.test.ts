/**
 * Elasticsearch goes away under load and comes back: nothing may be lost or stored twice,
 * and the processor's memory must stay bounded while it waits.
 *
 * Elasticsearch is shared by the whole test run, so its process keeps running: a TCP proxy
 * between one processor (a child process) and Elasticsearch is cut, which the processor
 * sees as a dead Elasticsearch (connects refused, requests in flight reset), and restored
 * on the same port 20 s later. Records keep arriving in Kafka meanwhile, most of them
 * during the outage. Checked: the documents (Elasticsearch queried directly, never through
 * the proxy) are exactly the ids produced; no dead letters; the child's RSS (from /proc,
 * every 500 ms) stays under a bound during the outage; the child is alive throughout; and
 * SIGTERM then ends it with exit code 0. The diagnostics give the RSS, heap and /metrics
 * figures per phase. `ES_OUTAGE_TEST_*` variables change the sizes (see below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { startTcpProxy, testEngines, uniqueName } from '@tributary/testkit';

const RECORDS = Number(process.env['ES_OUTAGE_TEST_RECORDS'] ?? 250_000);
const OUTAGE_MS = Number(process.env['ES_OUTAGE_TEST_OUTAGE_MS'] ?? 20_000);
/** Records per second produced before the cut and after the restore (the processor keeps up with it). */
const RATE = Number(process.env['ES_OUTAGE_TEST_RATE'] ?? 4000);
/** Records per second produced while Elasticsearch is cut off: most of the records arrive then. */
const OUTAGE_RATE = Number(process.env['ES_OUTAGE_TEST_OUTAGE_RATE'] ?? 12_000);
const BATCH = 500;
/** Documents indexed before the cut: the processor is in full flow. */
const CUT_AFTER = Math.min(10_000, Math.floor(RECORDS / 10));
/**
 * How far RSS may rise during the outage above its value in normal flow just before the cut.
 * Measured on the 2-core machine with these defaults (≈ 230 000 records of ≈ 860 bytes
 * arrive during the 20 s outage):
 * - the processor of commit 6aa85cd, which fetches nothing while its batches wait: +1 MiB
 *   (286 → 287 MiB), at most +12 MiB in six runs;
 * - the processor of 183bec0, which fetches until its in-flight budget is full (here one
 *   tenant's 32 MiB: ≈ 20 000 records, then all 6 partitions paused): +204 to +255 MiB in
 *   20 s outages; over a 60 s outage RSS stops rising after ≈ 16 s and then moves between
 *   238 and 395 MiB (+210 MiB at most) as garbage is collected;
 * - just holding the records that arrive during the outage, measured apart after a full
 *   garbage collection: +458 MiB as kafkajs messages, +680 MiB with their documents.
 * So a processor with bounded memory passes, and one that keeps what arrives fails.
 */
const RSS_RISE_BOUND_MIB = Number(process.env['ES_OUTAGE_TEST_RSS_RISE_MIB'] ?? 384);
/** The child's log level (its log is kept; the diagnostics count its warnings). */
const LOG_LEVEL = process.env['ES_OUTAGE_TEST_LOG_LEVEL'] ?? 'warn';
/** The processor fixture, also reporting its heap and the address of its /metrics on stdout. */
const fixture = join(import.meta.dirname, 'fixtures', 'processor-process.ts');
const MiB = 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The child's resident set and its peak so far, in bytes, from /proc; undefined once it is gone. */
function memory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'okhttp/4.12.0', 'checkout-worker/2.14.1 (+grpc-node)'];

/**
 * Envelope `i` (id `outage-<i>`): a container's JSON access-log line with kubernetes
 * metadata, ≈ 860 bytes (the bench's average is 966), with random request and trace ids:
 * LZ4 shrinks a batch of them ≈ 5.7×, against ≈ 7× for a line that only changes a counter.
 */
function envelope(tenant: string, i: number): Buffer {
  const pod = i % 24;
  const random = randomBytes(40).toString('hex');
  const status = i % 50 === 0 ? 503 : i % 9 === 0 ? 404 : 200;
  const line = JSON.stringify({
    time: `2026-11-25T10:${String(Math.floor(i / 60_000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z`,
    level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
    logger: 'http',
    msg: `handled request GET /api/orders/${100_000 + i}`,
    method: 'GET',
    path: `/api/orders/${100_000 + i}`,
    status,
    duration_ms: (i * 7919) % 25_000 / 100,
    bytes: (i * 104_729) % 20_000,
    remote_addr: `10.${i % 255}.${(i >> 8) % 255}.${(i >> 16) % 255}`,
    user_agent: AGENTS[i % AGENTS.length],
    request_id: `req-${random.slice(0, 20)}`,
    trace_id: random.slice(20, 52),
    span_id: random.slice(52, 68),
  });
  return encodeEnvelope({
    id: `outage-${i}`,
    time: '2026-11-25T10:00:00.000000000Z',
    stream: status >= 500 ? 'stderr' : 'stdout',
    message: line,
    source: { kind: 'sdk', app: 'checkout-api', host: `ip-10-42-${pod % 6}-17.eu-west-1.compute.internal` },
    kubernetes: {
      namespace: tenant,
      pod: `checkout-api-7f9c5d${String(pod).padStart(4, '0')}-x${pod.toString(36)}`,
      pod_uid: `6f1c${String(pod).padStart(4, '0')}-0d3e-4a8b-9c51-2b7e${String(pod).padStart(8, '0')}`,
      container: 'api',
      labels: { app: 'checkout-api', 'pod-template-hash': '7f9c5d' },
    },
  });
}

test(`Elasticsearch cut off for ${OUTAGE_MS / 1000} s during ${RECORDS} records: nothing lost, nothing twice, RSS bounded`, { timeout: 240_000 }, async (t) => {
  const began = Date.now();
  const engines = testEngines();
  const tenant = uniqueName('es-outage');
  const topic = `logs.${tenant}`;
  const index = `logs.${tenant}.default`;
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'es-outage-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 6 }));
  const es = createElasticsearch({ url: engines.elasticsearchUrl });
  const count = async (): Promise<number> => {
    await es.indices.refresh({ index }).catch(() => undefined);
    return (await es.count({ index }).catch(() => ({ count: 0 }))).count;
  };

  const proxy = await startTcpProxy({ target: engines.elasticsearchUrl });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();

  type Phase = 'start' | 'flowing' | 'outage' | 'catch-up';
  let phase = 'start' as Phase;
  const phaseNow = (): Phase => phase;

  // The processor, writing through the proxy. Its log (warn and up) is kept: it shows the waits.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, ELASTICSEARCH_URL: proxy.url, PROCESSOR_GROUP: uniqueName('es-outage-group'), PROCESSOR_REPORT_MEMORY: '1', LOG_LEVEL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid as number;
  let stdout = '';
  let metricsUrl: string | undefined;
  /** A few of the processor's own figures from its /metrics, summed over their labels. */
  const figures = async (): Promise<string> => {
    if (!metricsUrl) return 'no /metrics';
    const text = await fetch(metricsUrl, { signal: AbortSignal.timeout(3000) })
      .then((r) => r.text())
      .catch((err: unknown) => `# ${String(err)}`);
    const sums = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^tributary_processor_(in_flight_bytes|in_flight_records|paused_partitions|waiting_partitions|records_in_total|retries_total)(?:\{[^}]*\})? (\S+)$/.exec(line);
      if (m?.[1] && m[2]) sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[2]));
    }
    return [...sums].map(([name, value]) => `${name} ${name === 'in_flight_bytes' ? mib(value) : value}`).join(', ');
  };
  /** The child's own figures (`memory` lines of the fixture), tagged with the phase. */
  const heap: Array<{ phase: Phase; heapUsed: number; arrayBuffers: number }> = [];
  let outPartial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (outPartial + chunk.toString()).split('\n');
    outPartial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('metrics ')) metricsUrl = line.slice('metrics '.length);
      else if (!line.startsWith('memory ')) stdout += `${line}\n`;
      else {
        const m = JSON.parse(line.slice('memory '.length)) as { heapUsed: number; arrayBuffers: number };
        heap.push({ phase, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers });
      }
    }
  });
  const logLines: string[] = [];
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    logLines.push(...lines.filter((l) => l.length > 0));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const logTail = (): string => logLines.slice(-20).join('\n');
  const checkAlive = (when: string): void => assert.ok(alive(), `the processor exited (${child.exitCode ?? child.signalCode}) ${when}; its log ends:\n${logTail()}`);

  // RSS every 500 ms, tagged with the phase.
  const samples: Array<{ phase: Phase; rss: number }> = [];
  const sampler = setInterval(() => {
    const m = memory(pid);
    if (m) samples.push({ phase, rss: m.rss });
  }, 500);

  let produced = 0;
  let production: Promise<void> | undefined;
  let stopProducing = false;
  let rssFailure: string | undefined;
  try {
    while (!stdout.includes('started')) {
      checkAlive('while starting');
      assert.ok(Date.now() - began < 60_000, 'the processor did not start within 60 s');
      await sleep(100);
    }
    const startedAt = Date.now();
    const send = async (start: number): Promise<void> => {
      const messages = [];
      for (let i = start; i < Math.min(RECORDS, start + BATCH); i++) messages.push({ key: `pod-${i % 24}`, value: envelope(tenant, i) });
      await producer.send({ topic, acks: -1, compression: kafkajs.CompressionTypes.LZ4, messages });
      produced += messages.length;
    };
    // One batch first, until it is indexed: the processor has joined its group and consumes.
    // So no backlog builds up before the cut, and RSS at the cut is that of normal flow (a
    // burst would raise it for good: memory once freed mostly stays in RSS).
    await send(0);
    while ((await count()) < BATCH) {
      checkAlive('before its first documents');
      assert.ok(Date.now() - startedAt < 60_000, 'no document 60 s after the processor started');
      await sleep(250);
    }
    phase = 'flowing';
    const flowingAt = Date.now();

    // Then a steady pace before and after the cut, faster during it, so that most records
    // arrive while Elasticsearch is away.
    production = (async () => {
      for (let start = BATCH; start < RECORDS && !stopProducing; start += BATCH) {
        const sentAt = Date.now();
        await send(start);
        await sleep(Math.max(0, (BATCH / (phaseNow() === 'outage' ? OUTAGE_RATE : RATE)) * 1000 - (Date.now() - sentAt)));
      }
    })();
    production.catch(() => undefined);

    // Cut once the processor is in full flow and keeping up (at most 1 s of records behind);
    // on a machine too busy for that, after 30 s anyway: the baseline is then higher.
    let before = 0;
    while ((before = await count()) < CUT_AFTER || (produced - before > RATE && Date.now() - flowingAt < 30_000)) {
      checkAlive('before the outage');
      await sleep(250);
    }
    if (produced - before > RATE) t.diagnostic(`the processor was ${produced - before} records behind at the cut: the machine is busy, the RSS baseline includes catching up`);
    // The baseline: RSS in normal flow just before the cut (the last 2 s, so one sample taken
    // right after a garbage collection doesn't make it low).
    const rssNow = memory(pid)?.rss ?? NaN;
    const atCut = { produced, indexed: before, rss: rssNow, baseline: Math.max(rssNow, ...samples.slice(-4).map((s) => s.rss)), peakBefore: Math.max(...samples.map((s) => s.rss)) };
    const figuresAtCut = await figures();
    await proxy.cut();
    phase = 'outage';
    const cutAt = Date.now();
    t.diagnostic(`cut at ${((cutAt - startedAt) / 1000).toFixed(1)} s after the processor started: ${atCut.produced} produced, ${atCut.indexed} indexed, RSS ${mib(atCut.rss)}, baseline (max of the last 2 s) ${mib(atCut.baseline)}, peak so far ${mib(atCut.peakBefore)}`);

    // Nothing gets through while cut: the count settles (bulks already inside Elasticsearch may still land).
    await sleep(OUTAGE_MS / 2);
    const midOutage = await count();
    const figuresMid = await figures();
    await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
    const endOutage = await count();
    const figuresEnd = await figures();
    checkAlive('during the outage');
    const outage = samples.filter((s) => s.phase === 'outage').map((s) => s.rss);
    const atRestore = { produced, indexed: endOutage, rss: memory(pid)?.rss ?? NaN, peak: memory(pid)?.peak ?? NaN };
    await proxy.restore();
    phase = 'catch-up';
    const restoredAt = Date.now();
    const accepted = proxy.acceptedConnections;

    const heapOf = (p: Phase): string => {
      const of = heap.filter((h) => h.phase === p);
      return of.length === 0 ? 'n/a' : `heapUsed max ${mib(Math.max(...of.map((h) => h.heapUsed)))}, arrayBuffers max ${mib(Math.max(...of.map((h) => h.arrayBuffers)))}`;
    };
    const outageMax = Math.max(...outage);
    const outageMin = Math.min(...outage);
    t.diagnostic(
      `outage ${((restoredAt - cutAt) / 1000).toFixed(1)} s: ${atRestore.produced - atCut.produced} records produced meanwhile; ` +
        `documents ${atCut.indexed} at the cut, ${midOutage} halfway, ${endOutage} at the end; ` +
        `RSS ${outage.length} samples: min ${mib(outageMin)}, max ${mib(outageMax)}, first 5 s max ${mib(Math.max(...outage.slice(0, 10)))}, last 5 s max ${mib(Math.max(...outage.slice(-10)))}, ` +
        `at restore ${mib(atRestore.rss)} (kernel peak VmHWM so far ${mib(atRestore.peak)}); bound ${mib(atCut.baseline + RSS_RISE_BOUND_MIB * MiB)}; ` +
        `before the cut ${heapOf('flowing')}; during the outage ${heapOf('outage')}`,
    );
    t.diagnostic(`processor's /metrics: at the cut ${figuresAtCut}; halfway ${figuresMid}; at the end ${figuresEnd}`);
    assert.equal(endOutage, midOutage, 'documents arrived while Elasticsearch was cut off: the proxy leaks');
    assert.ok(outage.length >= (OUTAGE_MS / 500) * 0.8, `only ${outage.length} RSS samples during the outage`);
    // Checked last, so a failure here still tells whether anything was lost.
    const bound = atCut.baseline + RSS_RISE_BOUND_MIB * MiB;
    if (outageMax > bound) rssFailure = `RSS reached ${mib(outageMax)} during the outage: over the bound of ${mib(bound)} (${mib(atCut.baseline)} before the cut + ${RSS_RISE_BOUND_MIB} MiB)`;

    // Back: everything arrives, exactly once.
    await production;
    let stored = 0;
    while ((stored = await count()) < RECORDS) {
      checkAlive('after the outage');
      assert.ok(Date.now() - restoredAt < 90_000, `${stored} of ${RECORDS} documents 90 s after Elasticsearch came back`);
      await sleep(500);
    }
    const caughtUpAt = Date.now();
    t.diagnostic(
      `caught up ${((caughtUpAt - restoredAt) / 1000).toFixed(1)} s after the restore (${RECORDS - endOutage} documents; ${proxy.acceptedConnections - accepted} new connections through the proxy); ` +
        `RSS during catch-up max ${mib(Math.max(...samples.filter((s) => s.phase === 'catch-up').map((s) => s.rss)))}, ${heapOf('catch-up')}`,
    );
    // A late re-delivery would be a 409 (same _id): the count can't overshoot, but check it stays.
    await sleep(2000);
    assert.equal(await count(), RECORDS);

    // The exact set of ids: all of them, each once (_id is the envelope id).
    const ids = new Set<string>();
    let hits = 0;
    const pit = await es.openPointInTime({ index, keep_alive: '1m' });
    try {
      let after: Array<string | number> | undefined;
      for (;;) {
        const page = await es.search({ pit: { id: pit.id, keep_alive: '1m' }, size: 10_000, _source: false, sort: [{ _shard_doc: 'asc' }], track_total_hits: false, ...(after ? { search_after: after } : {}) });
        for (const hit of page.hits.hits) {
          hits++;
          ids.add(hit._id as string);
        }
        const last = page.hits.hits.at(-1);
        if (!last) break;
        after = last.sort as Array<string | number>;
      }
    } finally {
      await es.closePointInTime({ id: pit.id }).catch(() => undefined);
    }
    const missing: string[] = [];
    for (let i = 0; i < RECORDS && missing.length < 10; i++) if (!ids.has(`outage-${i}`)) missing.push(`outage-${i}`);
    assert.equal(hits, RECORDS);
    assert.equal(ids.size, RECORDS);
    assert.deepEqual(missing, [], 'ids missing from Elasticsearch');

    // Elasticsearch being down is nobody's record's fault: no dead letters.
    const deadLetters = (await admin.fetchTopicOffsets(`dlq.${tenant}`)).reduce((sum, p) => sum + Number(p.high), 0);
    assert.equal(deadLetters, 0, `${deadLetters} records were dead-lettered during the outage`);

    checkAlive('after catching up');
    const warnings = new Map<string, number>();
    for (const line of logLines.filter((l) => l.includes('"level":40'))) {
      let msg = '?';
      try {
        msg = String((JSON.parse(line) as { msg?: unknown }).msg).slice(0, 60);
      } catch {
        // not a log line of pino's
      }
      warnings.set(msg, (warnings.get(msg) ?? 0) + 1);
    }
    const errors = logLines.filter((l) => /"level":(50|60)/.test(l));
    t.diagnostic(`processor log: warnings ${JSON.stringify(Object.fromEntries(warnings))}, ${errors.length} errors${errors.length > 0 ? ` (first: ${errors[0]})` : ''}`);

    // A clean stop after all that.
    const stopAt = Date.now();
    child.kill('SIGTERM');
    const exit = await Promise.race([exited, sleep(20_000).then(() => undefined)]);
    assert.ok(exit, `the processor did not exit within 20 s of SIGTERM; its log ends:\n${logTail()}`);
    assert.deepEqual(exit, { code: 0, signal: null }, `the processor exited with ${JSON.stringify(exit)}; its log ends:\n${logTail()}`);
    assert.ok(stdout.includes('stopped'));
    t.diagnostic(`SIGTERM → exit 0 in ${((Date.now() - stopAt) / 1000).toFixed(1)} s; whole test ${((Date.now() - began) / 1000).toFixed(1)} s`);
    assert.equal(rssFailure, undefined, rssFailure);
  } finally {
    clearInterval(sampler);
    // RSS every 2 s, MiB, by phase.
    const timeline = samples.filter((_, i) => i % 4 === 0).reduce<string[]>((parts, s, i, all) => {
      if (i === 0 || all[i - 1]?.phase !== s.phase) parts.push(`${s.phase}:`);
      parts.push(String(Math.round(s.rss / MiB)));
      return parts;
    }, []);
    t.diagnostic(`RSS every 2 s (MiB): ${timeline.join(' ')}`);
    if (alive()) {
      child.kill('SIGKILL');
      await exited;
    }
    await proxy.stop();
    stopProducing = true;
    await production?.catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic, `dlq.${tenant}`] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await es.indices.delete({ index, ignore_unavailable: true }).catch(() => undefined);
    await es.close();
  }
});
