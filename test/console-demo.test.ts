/**
 * The demo `npm start` prints, followed in the browser as a new user would: sign in with the
 * tenant's token, try a change that is refused (each error at its line, v1 still in force),
 * watch the demo's lines cut short arrive as dead letters, apply the demo's fixed manifest
 * from the page, and replay the dead letters from the page; they are then documents in
 * Elasticsearch under their original ids, with error.* saying why.
 *
 * The same pieces as `tributary up`: the demo's manifests (writeDemoFiles) and producer
 * (DemoProducer), the control plane with its console and a processor, on real engines;
 * for a tenant of its own rather than `payments`, so it shares the engines with any test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { pino } from 'pino';
import { ControlPlane } from '@tributary/control-plane';
import { createElasticsearch } from '@tributary/elasticsearch';
import { createKafka } from '@tributary/kafka';
import { startWebhookReceiver, type WebhookReceiver } from '@tributary/notify';
import { Processor } from '@tributary/processor';
import { launchChromium, testEngines, uniqueName } from '@tributary/testkit';
import { writeDemoFiles, type DemoFiles } from '../packages/cli/src/commands/demo-alerts.js';
import { DemoProducer } from '../packages/cli/src/commands/demo-producer.js';

const engines = testEngines();
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
const shots = join(import.meta.dirname, '..', 'test-results', 'console');
const tenant = uniqueName('payments');
const token = 'demo-tenant-token-0123456789';
const stateDir = mkdtempSync(join(tmpdir(), 'tributary-console-demo-'));
let controlPlane: ControlPlane;
let processor: Processor;
let producer: DemoProducer;
let receiver: WebhookReceiver;
let browser: Browser;
let files: DemoFiles;

before(async () => {
  mkdirSync(shots, { recursive: true });
  receiver = await startWebhookReceiver();
  files = writeDemoFiles(stateDir, receiver.url, 'demo-secret-0123456789', tenant);
  controlPlane = new ControlPlane({
    brokers: engines.brokers,
    elasticsearchUrl: engines.elasticsearchUrl,
    port: 0,
    host: '127.0.0.1',
    tokens: { tenants: { [tenant]: [token] } },
    topics: { partitions: 1 },
    notifyAllow: ['127.0.0.1/32'],
    logger,
  });
  await controlPlane.start();
  // As `tributary up` does: the demo's first manifest, through the API.
  const applied = await fetch(`${controlPlane.address}/v1/tenants/${tenant}/pipelines/checkout-api`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
    body: readFileSync(files.manifest, 'utf8'),
  });
  assert.equal(applied.status, 201, await applied.text());
  processor = new Processor({ brokers: engines.brokers, elasticsearchUrl: engines.elasticsearchUrl, groupId: uniqueName('demo-processor'), tenants: [tenant], topicRefreshMs: 500, trafficIntervalMs: 1000, metricsPort: 0, host: '127.0.0.1', logger });
  await processor.start();
  // Five lines a second, every 7th cut short: a dead letter about every 1.4 s.
  producer = new DemoProducer(createKafka({ brokers: engines.brokers, clientId: 'console-demo' }, logger), 200, tenant);
  await producer.start();
  browser = await launchChromium();
});

after(async () => {
  await producer?.stop();
  await browser?.close();
  await processor?.stop();
  await controlPlane?.stop();
  await receiver?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

test('the demo in the browser: a refused change shown at its line, the cut lines as dead letters, the fix applied and the dead letters replayed into Elasticsearch', async () => {
  const since = new Date(Date.now() - 60_000).toISOString();
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  try {
    // Sign in with the token `npm start` prints.
    await page.goto(`${controlPlane.address}/console`);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(new RegExp(`/console/tenants/${tenant}$`));
    await page.getByRole('link', { name: 'checkout-api' }).click();

    // 1. A change with a typo in a timestamp format: refused, at its line; v1 stays.
    const original = await page.getByLabel('Manifest (YAML)').inputValue();
    assert.match(original, /format: rfc3339/, 'the editor holds the manifest in force');
    const typo = original.replace('format: rfc3339', 'format: rfc3399');
    await page.getByLabel('Manifest (YAML)').fill(typo);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForLoadState();
    assert.match(await page.getByRole('alert').first().innerText(), /v1, is still in force/);
    const line = typo.split('\n').findIndex((l) => l.includes('rfc3399')) + 1;
    assert.match((await page.locator(`#change-L${line}`).getAttribute('class')) ?? '', /bad/, `line ${line}, the typo's, is marked`);
    assert.match(await page.locator(`#change-L${line} + .line-error`).first().innerText(), /spec\.parse\[1\]\.timestamp\.format/);
    await page.screenshot({ path: join(shots, 'demo-refused.png'), fullPage: true });

    // 2. The lines cut short arrive as dead letters, live.
    await page.getByRole('link', { name: 'Its dead letters' }).click();
    const cut = page.locator('.dead-letter', { hasText: 'parse' }).first();
    await cut.waitFor({ timeout: 30_000 });
    assert.match(await cut.locator('.pipeline').innerText(), /checkout-api v1/);

    // 3. The team's fix, the demo's other manifest, applied from the page.
    await page.goto(`${controlPlane.address}/console/tenants/${tenant}/pipelines/checkout-api`);
    await page.getByLabel('Manifest (YAML)').fill(readFileSync(files.fixed, 'utf8'));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/applied=2/);
    assert.match(await page.getByRole('status').innerText(), /Applied: v2 is in force/);

    // 4. The dead letters of the last minutes replayed from the dead-letter page.
    const listed = await fetch(`${controlPlane.address}/v1/tenants/${tenant}/deadletters?since=${encodeURIComponent(since)}&limit=1000`, { headers: { authorization: `Bearer ${token}` } });
    const deadLetters = ((await listed.json()) as { deadLetters: Array<{ key: string | null; value: string | null }> }).deadLetters;
    const ids = deadLetters.map((d) => (JSON.parse(d.value ?? '{}') as { id?: string }).id).filter((id): id is string => typeof id === 'string');
    assert.ok(ids.length > 0, 'dead letters to replay');
    await page.goto(`${controlPlane.address}/console/tenants/${tenant}/deadletters`);
    if ((await page.locator('details.replay').getAttribute('open')) === null) await page.locator('summary', { hasText: 'Replay' }).click();
    await page.getByLabel('From').fill(since);
    await page.getByLabel('to', { exact: true }).fill(new Date().toISOString());
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.waitForLoadState();
    assert.match(await page.getByRole('status').innerText(), /Replayed \d+ of \d+ matching .* Done\./);
    await page.screenshot({ path: join(shots, 'demo-replayed.png'), fullPage: true });

    // 5. In Elasticsearch under their original ids, indexed by v2 with the parse error.
    const es = createElasticsearch({ url: engines.elasticsearchUrl });
    try {
      let found: Array<{ _id?: string | null; _source?: { error?: { type?: string }; tributary?: { pipeline?: { version?: number } } } }> = [];
      for (let i = 0; i < 60 && found.length < ids.length; i++) {
        await es.indices.refresh({ index: `logs.${tenant}.*` }).catch(() => undefined);
        const answer = await es.search<{ error?: { type?: string }; tributary?: { pipeline?: { version?: number } } }>({ index: `logs.${tenant}.*`, size: 1000, query: { ids: { values: ids } } }).catch(() => undefined);
        found = answer?.hits.hits ?? [];
        if (found.length < ids.length) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.deepEqual(found.map((h) => h._id).sort(), [...ids].sort(), 'every replayed dead letter is a document, under its original id');
      assert.ok(found.every((h) => h._source?.error?.type === 'parse' && h._source.tributary?.pipeline?.version === 2), 'indexed by v2, with the parse error');
    } finally {
      await es.close();
    }

    // 6. The tenant's page: the pipeline's last hour, as the processor counted it.
    await page.goto(`${controlPlane.address}/console/tenants/${tenant}`);
    let cells: number[] = [];
    for (let i = 0; i < 40; i++, await page.reload()) {
      cells = (await page.locator('table.pipelines tr', { hasText: 'checkout-api' }).innerText()).split('\t').slice(-4).map((c) => Number(c.trim()));
      // In, indexed, dropped, dead-lettered: the replays indexed, debug lines dropped, cut lines dead-lettered.
      if (cells.length === 4 && cells.slice(1).every((n) => n > 0)) break;
      await page.waitForTimeout(250);
    }
    const [records, indexed, dropped, deadLettered] = cells as [number, number, number, number];
    assert.ok(indexed > 0 && dropped > 0 && deadLettered > 0, `indexed, dropped and dead-lettered all counted: ${cells.join(' ')}`);
    assert.equal(records, indexed + dropped + deadLettered, 'every record in comes out once');
    await page.screenshot({ path: join(shots, 'demo-pipelines.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
