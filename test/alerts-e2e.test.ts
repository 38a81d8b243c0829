/**
 * The alert rules end to end, on a real Prometheus scraping a real processor: Elasticsearch
 * goes away → the bulk-retry and lag alerts go pending, then firing; it comes back → they
 * resolve. The rules are deploy/prometheus/tributary-rules.yaml with every duration divided
 * by 20 (5m → 15s), so the test takes minutes, not hours; promtool's unit tests check the
 * real durations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { Processor } from '@tributary/processor';
import { eventually, startLocalPrometheus, startTcpProxy, testEngines, uniqueName } from '@tributary/testkit';

const engines = testEngines();
const rulesFile = join(import.meta.dirname, '..', 'deploy', 'prometheus', 'tributary-rules.yaml');

/** The rules with durations ÷ 20: `for: 5m` → `for: 15s`, `[10m]` → `[30s]`, `[30m:1m]` → `[90s:3s]`, `[1h]` → `[180s]`. */
function scaledRules(text: string): string {
  const scale = (amount: string, unit: string) => `${(Number(amount) * (unit === 'h' ? 3600 : 60)) / 20}s`;
  return text
    .replace(/for: (\d+)([mh])/g, (_m, a: string, u: string) => `for: ${scale(a, u)}`)
    .replace(/\[(\d+)([mh])(?::(\d+)([mh]))?\]/g, (_m, a: string, u: string, b?: string, v?: string) => `[${scale(a, u)}${b && v ? `:${scale(b, v)}` : ''}]`);
}

test('Elasticsearch stopped: the bulk-retry and lag alerts go pending then firing, and resolve once it is back', { timeout: 400_000 }, async () => {
  const tenant = uniqueName('alerts');
  const logger = pino({ level: 'silent' });
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'alerts-test' }, logger);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 2 }));
  await admin.disconnect();
  const es = await startTcpProxy({ target: engines.elasticsearchUrl });
  const processor = new Processor({
    brokers: engines.brokers,
    elasticsearchUrl: es.url,
    groupId: uniqueName('alerts-group'),
    tenants: [tenant],
    topicRefreshMs: 500,
    backoff: { initialMs: 100, maxMs: 1000 },
    lagRefreshMs: 1000,
    metricsPort: 0,
    host: '127.0.0.1',
    logger,
  });
  await processor.start();
  const dir = mkdtempSync(join(tmpdir(), 'alerts-rules-'));
  writeFileSync(join(dir, 'rules.yaml'), scaledRules(readFileSync(rulesFile, 'utf8')));
  const prometheus = await startLocalPrometheus({ jobs: [{ job: 'tributary-processor', targets: [new URL(processor.metricsAddress).host] }], ruleFiles: [join(dir, 'rules.yaml')] });

  // 400 records a second, all along.
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  let sent = 0;
  let producing = true;
  const production = (async () => {
    while (producing) {
      const messages = Array.from({ length: 100 }, () => {
        const i = sent++;
        return { key: `s${i % 8}`, value: encodeEnvelope({ id: `a-${i}`, time: new Date().toISOString(), stream: 'stdout', message: `line ${i}`, source: { kind: 'sdk', app: 'a', host: 'h' } }) };
      });
      await producer.send({ topic: `logs.${tenant}`, acks: -1, messages });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();

  const watched = ['TributaryElasticsearchBulkRetries', 'TributaryConsumerLagGrowing'];
  const seen = new Map<string, Set<string>>(watched.map((a) => [a, new Set<string>()]));
  const states = async () => {
    const alerts = await prometheus.alerts();
    for (const alert of alerts) seen.get(alert.labels['alertname'] ?? '')?.add(alert.state);
    return alerts;
  };
  try {
    await eventually('the processor is scraped and indexing', async () => Number((await prometheus.query(`sum(tributary_processor_records_out_total{outcome="indexed"})`))[0]?.value[1] ?? 0) > 0, 60_000);
    assert.deepEqual((await states()).filter((a) => watched.includes(a.labels['alertname'] ?? '')), [], 'nothing fires while Elasticsearch answers');

    es.cut();
    await eventually(
      () => `both alerts firing (seen: ${JSON.stringify([...seen].map(([a, s]) => [a, [...s]]))})`,
      async () => {
        const alerts = await states();
        return watched.every((name) => alerts.some((a) => a.labels['alertname'] === name && a.state === 'firing'));
      },
      240_000,
      1000,
    );
    for (const name of watched) assert.ok(seen.get(name)?.has('pending'), `${name} was pending before it fired`);
    const lag = (await prometheus.alerts()).find((a) => a.labels['alertname'] === 'TributaryConsumerLagGrowing');
    assert.equal(lag?.labels['tenant'], tenant, 'the lag alert names the tenant');
    assert.equal(lag?.labels['severity'], 'warning');

    es.restore();
    await eventually('both alerts resolved', async () => !(await states()).some((a) => watched.includes(a.labels['alertname'] ?? '')), 240_000, 1000);
  } finally {
    producing = false;
    await production;
    await producer.disconnect();
    await prometheus.stop();
    await processor.stop();
    await es.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
