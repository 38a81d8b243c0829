import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from '../eventually.js';
import { startLocalPrometheus } from '../local/prometheus.js';

test('a local Prometheus scrapes its targets, answers queries, evaluates rules, and stops without a trace', { timeout: 60_000 }, async () => {
  let value = 1;
  const target = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE demo_queue_depth gauge\ndemo_queue_depth{tenant="payments"} ${value}\n`);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'prom-rules-'));
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, JSON.stringify({ groups: [{ name: 'demo', rules: [{ alert: 'DemoQueueDeep', expr: 'demo_queue_depth > 10', for: '2s', labels: { severity: 'warning' } }] }] }));
  const prometheus = await startLocalPrometheus({ jobs: [{ job: 'demo', targets: [`127.0.0.1:${(target.address() as AddressInfo).port}`] }], ruleFiles: [rules] });
  try {
    await eventually('the target is scraped', async () => (await prometheus.query('demo_queue_depth{job="demo"}')).length === 1);
    await assert.rejects(() => prometheus.query('sum by ('), /parse error/);
    value = 50;
    await eventually('the alert goes pending, then firing', async () => (await prometheus.alerts()).some((a) => a.labels['alertname'] === 'DemoQueueDeep' && a.state === 'firing'), 30_000);
    const [firing] = await prometheus.alerts();
    assert.equal(firing?.labels['tenant'], 'payments');
    value = 1;
    await eventually('the alert resolves', async () => (await prometheus.alerts()).length === 0, 30_000);
  } finally {
    await prometheus.stop();
    target.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal((await fetch(prometheus.url).catch(() => undefined)) === undefined, true, 'nothing listens any more');
});
