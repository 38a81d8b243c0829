import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createElasticsearch } from '@tributary/elasticsearch';
import { createKafka, PIPELINES_TOPIC, STATUS_TOPIC, TRAFFIC_TOPIC, TrafficRecorder } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';
import { ControlPlane } from '../index.js';

const engines = testEngines();
const logger = pino({ level: 'silent' });
const tenant = uniqueName('shop');
const other = uniqueName('other');
const tokens = { [tenant]: 'token-of-the-shop-tenant-123456', [other]: 'token-of-another-tenant-1234567' };
const admin = 'admin-token-0123456789abcdef';
const example = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'packages', 'pipeline', 'examples', 'checkout-api.yaml'), 'utf8');
const manifest = (edit: (text: string) => string = (t) => t): string => edit(example.replace('namespace: payments', `namespace: ${tenant}`));

function controlPlaneOptions(): ConstructorParameters<typeof ControlPlane>[0] {
  return {
    brokers: engines.brokers,
    elasticsearchUrl: engines.elasticsearchUrl,
    port: 0,
    host: '127.0.0.1',
    tokens: { tenants: { [tenant]: [tokens[tenant] as string], [other]: [tokens[other] as string] }, adminToken: admin },
    topics: { partitions: 2 },
    logger,
  };
}

function controlPlane(): ControlPlane {
  return new ControlPlane(controlPlaneOptions());
}

let service: ControlPlane;
before(async () => {
  service = controlPlane();
  await service.start();
});
after(async () => {
  await service.stop();
});

function put(body: string, { token = tokens[tenant], name = 'checkout-api', ifMatch }: { token?: string | undefined; name?: string; ifMatch?: string } = {}) {
  return service.http.inject({
    method: 'PUT',
    url: `/v1/tenants/${tenant}/pipelines/${name}`,
    headers: { 'content-type': 'application/yaml', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(ifMatch ? { 'if-match': ifMatch } : {}) },
    payload: body,
  });
}
const get = (path: string, token = tokens[tenant]) => service.http.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });

/** Every record of a compacted topic, latest value per key, read by a plain consumer. */
async function topicState(topic: string): Promise<Map<string, string | null>> {
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'control-plane-test' }, logger);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const offsets = await kafkaAdmin.fetchTopicOffsets(topic);
  await kafkaAdmin.disconnect();
  const remaining = new Map(offsets.filter((o) => o.high !== o.low).map((o) => [o.partition, Number(o.high)]));
  const state = new Map<string, string | null>();
  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    if (remaining.size === 0) return resolve();
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        state.set(String(message.key), message.value === null ? null : String(message.value));
        if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
        if (remaining.size === 0) resolve();
      },
    });
  });
  await consumer.disconnect();
  return state;
}

test('apply publishes an accepted manifest, records its status, and an identical apply is a no-op', async () => {
  const created = await put(manifest());
  assert.equal(created.statusCode, 201, created.body);
  assert.deepEqual(created.json(), { outcome: 'created', version: 1 });

  const published = (await topicState(PIPELINES_TOPIC)).get(`${tenant}/checkout-api`);
  assert.ok(published, 'the record is in tributary.pipelines');
  const record = JSON.parse(published) as { version: number; manifest: { metadata: { namespace: string } } };
  assert.equal(record.version, 1);
  assert.equal(record.manifest.metadata.namespace, tenant);

  const again = await put(manifest());
  assert.equal(again.statusCode, 200);
  assert.deepEqual(again.json(), { outcome: 'unchanged', version: 1 });

  const status = await get(`/v1/tenants/${tenant}/pipelines/checkout-api/status`);
  assert.equal(status.json().accepted.version, 1);
  assert.equal(status.json().lastAttempt.outcome, 'unchanged');
  const topics = await (async () => {
    const kafkaAdmin = createKafka({ brokers: engines.brokers, clientId: 't' }, logger).admin();
    await kafkaAdmin.connect();
    const list = await kafkaAdmin.listTopics();
    await kafkaAdmin.disconnect();
    return list;
  })();
  assert.ok(topics.includes(`logs.${tenant}`) && topics.includes(`dlq.${tenant}`), "the tenant's topics were created");
});

test('a bad apply is refused with paths, and the accepted version stays in force', async () => {
  const bad = await put(manifest((t) => t.replace('- json: { field: message }', '- regex: { pattern: "(a)\\\\1" }')));
  assert.equal(bad.statusCode, 422, bad.body);
  const errors = bad.json().errors as Array<{ path: string; reason: string; line: number }>;
  assert.equal(errors[0]?.path, 'spec.parse[0].regex.pattern');
  assert.match(errors[0]?.reason ?? '', /backreferences are not supported/);
  assert.equal(typeof errors[0]?.line, 'number');

  const failingTest = await put(manifest((t) => t.replace('fields: { log.level: info, message: paid }', 'fields: { log.level: error, message: paid }')));
  assert.equal(failingTest.statusCode, 422);
  assert.equal(failingTest.json().errors[0].path, 'spec.tests[0]');
  assert.match(failingTest.json().errors[0].reason, /log\.level: expected "error", got "info"/);

  const foreign = await put(manifest((t) => t.replace(`namespace: ${tenant}`, `namespace: ${other}`)));
  assert.equal(foreign.statusCode, 422);
  assert.match(foreign.json().errors[0].reason, new RegExp(`must be "${tenant}"`));

  const current = await get(`/v1/tenants/${tenant}/pipelines/checkout-api`);
  assert.equal(current.json().version, 1, 'still the last accepted version');
  const status = await get(`/v1/tenants/${tenant}/pipelines/checkout-api/status`);
  assert.equal(status.json().accepted.version, 1);
  assert.equal(status.json().lastAttempt.outcome, 'rejected');
  assert.equal(status.json().lastAttempt.errors[0].path, `metadata.namespace`);
  assert.equal(status.json().lastAttempt.manifest, manifest((t) => t.replace(`namespace: ${tenant}`, `namespace: ${other}`)), 'the refused text, for its errors to be shown at their lines');
});

test("a document the index's mapping refuses is caught before apply", async () => {
  const es = createElasticsearch({ url: engines.elasticsearchUrl });
  await es.indices.create({ index: `logs.${tenant}.typed`, mappings: { properties: { status: { type: 'long' } } } });
  await es.close();
  const typed = [
    'apiVersion: tributary.dev/v1alpha1',
    'kind: LoggingPipeline',
    `metadata: { name: typed, namespace: ${tenant} }`,
    'spec:',
    '  parse: [ { json: {} } ]',
    '  output: { elasticsearch: { index: typed } }',
    '  tests:',
    '    - input: { message: \'{"status":"not a number"}\' }',
    '      expect: { fields: { status: not a number } }',
  ].join('\n');
  const refused = await put(typed, { name: 'typed' });
  assert.equal(refused.statusCode, 422, refused.body);
  assert.equal(refused.json().errors[0].path, 'spec.tests[0]');
  assert.match(refused.json().errors[0].reason, /would be rejected by logs\..*\.typed: document_parsing_exception|mapper_parsing_exception/);
});

test('validate checks without applying anything', async () => {
  const validate = (body: string) =>
    service.http.inject({ method: 'POST', url: `/v1/tenants/${tenant}/validate`, headers: { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/yaml' }, payload: body });
  const ok = await validate(manifest((t) => t.replace('name: checkout-api', 'name: only-validated')));
  assert.equal(ok.statusCode, 200, ok.body);
  assert.deepEqual(ok.json(), { valid: true });
  const bad = await validate(manifest((t) => t.replace('select:', 'selct:')));
  assert.equal(bad.statusCode, 422);
  assert.equal(bad.json().errors[0].path, 'spec.selct');
  assert.equal((await get(`/v1/tenants/${tenant}/pipelines/only-validated`)).statusCode, 404, 'nothing was applied');
});

test('tokens: none is 401, another tenant is 403 and changes nothing, admin may act for all', async () => {
  assert.equal((await put(manifest(), { token: '' })).statusCode, 401);
  assert.equal((await put(manifest(), { token: 'wrong-token-wrong-token' })).statusCode, 401);
  const foreign = await put(manifest((t) => t.replace('checkout-', 'checkout2-')), { token: tokens[other] });
  assert.equal(foreign.statusCode, 403);
  assert.equal((await get(`/v1/tenants/${tenant}/pipelines`, tokens[other])).statusCode, 403);
  const list = await get(`/v1/tenants/${tenant}/pipelines`, admin);
  assert.equal(list.statusCode, 200);
  assert.deepEqual(list.json().pipelines.map((p: { name: string }) => p.name), ['checkout-api']);
});

test('If-Match gives optimistic concurrency; a change makes a new version', async () => {
  const conflict = await put(manifest((t) => t.replace('keepLast: 4', 'keepLast: 2')), { ifMatch: '0' });
  assert.equal(conflict.statusCode, 409);
  const updated = await put(manifest((t) => t.replace('keepLast: 4', 'keepLast: 2')), { ifMatch: '1' });
  assert.equal(updated.statusCode, 200, updated.body);
  assert.deepEqual(updated.json(), { outcome: 'updated', version: 2 });

  const metrics = (await service.http.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, new RegExp(`tributary_control_plane_applies_total\\{tenant="${tenant}",outcome="rejected"\\} 4`));
  assert.match(metrics, new RegExp(`tributary_control_plane_applies_total\\{tenant="${tenant}",outcome="conflict"\\} 1`));
  assert.match(metrics, new RegExp(`tributary_control_plane_validation_errors_total\\{tenant="${tenant}",class="compile"\\} 1`));
  assert.match(metrics, /tributary_control_plane_auth_failures_total\{status="403"\} 2/);
});

test('a restarted control plane rebuilds the same state from Kafka alone', async () => {
  await service.stop();
  service = controlPlane();
  await service.start();
  const current = await get(`/v1/tenants/${tenant}/pipelines/checkout-api`);
  assert.equal(current.statusCode, 200);
  assert.equal(current.json().version, 2);
  const status = await get(`/v1/tenants/${tenant}/pipelines/checkout-api/status`);
  assert.equal(status.json().accepted.version, 2);
  assert.ok((await topicState(STATUS_TOPIC)).has(`${tenant}/checkout-api`));
});

test('delete writes a tombstone; metrics, health and the OpenAPI document are served', async () => {
  const deleted = await service.http.inject({ method: 'DELETE', url: `/v1/tenants/${tenant}/pipelines/checkout-api`, headers: { authorization: `Bearer ${tokens[tenant]}` } });
  assert.equal(deleted.statusCode, 204);
  assert.equal((await get(`/v1/tenants/${tenant}/pipelines/checkout-api`)).statusCode, 404);
  assert.equal((await topicState(PIPELINES_TOPIC)).get(`${tenant}/checkout-api`), null);

  const metrics = await service.http.inject({ method: 'GET', url: '/metrics' });
  assert.match(metrics.body, /^tributary_control_plane_process_cpu_seconds_total /m);
  assert.equal((await service.http.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  assert.equal((await service.http.inject({ method: 'GET', url: '/openapi.json' })).json().openapi, '3.0.3');
  // And over real HTTP, for good measure.
  const response = await fetch(`${service.address}/healthz`);
  assert.equal(response.status, 200);
});

test('dead-letter webhooks pointing inside (loopback, link-local, private, cloud metadata, a name resolving to loopback) are refused with their path, and never called; the allowlist admits', async () => {
  let calls = 0;
  const receiver = createServer((_req, res) => {
    calls++;
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  const inside = [`http://127.0.0.1:${port}/hook`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.8/hook', 'https://192.168.1.20/hook', 'http://[fe80::1]/hook', `http://localhost:${port}/hook`];
  // This machine's own name, through the system resolver (127.0.0.1 in /etc/hosts here).
  const own = (await lookup(hostname(), { all: true }).catch(() => [])).some((a) => a.address.startsWith('127.')) ? [`http://${hostname()}:${port}/hook`] : [];
  const withHooks = (urls: string[]): string =>
    manifest((t) => t.replace('name: checkout-api', 'name: hooks').replace('      - webhook: { url: "https://hooks.example/payments" }', urls.map((u) => `      - webhook: { url: "${u}" }`).join('\n')));
  try {
    const refused = await put(withHooks([...inside, ...own, 'https://hooks.example/payments']), { name: 'hooks' });
    assert.equal(refused.statusCode, 422, refused.body);
    const errors = refused.json().errors as Array<{ path: string; reason: string; line?: number }>;
    assert.deepEqual(errors.map((e) => e.path), [...inside, ...own].map((_, i) => `spec.deadLetter.notify[${i}].webhook.url`), 'each one, and not the outside one');
    assert.match(errors[0]?.reason ?? '', /127\.0\.0\.1 is a loopback address/);
    assert.match(errors[1]?.reason ?? '', /cloud metadata/);
    assert.match(errors[2]?.reason ?? '', /private/);
    assert.equal(typeof errors[0]?.line, 'number', 'with the line of the manifest');
    if (own.length > 0) assert.match(errors[inside.length]?.reason ?? '', /resolves to 127\./);
    assert.equal((await get(`/v1/tenants/${tenant}/pipelines/hooks`)).statusCode, 404, 'nothing applied');

    // A platform that runs its receiver on loopback admits it.
    const allowing = new ControlPlane({ ...controlPlaneOptions(), notifyAllow: ['127.0.0.1/32'] });
    await allowing.start();
    try {
      const accepted = await allowing.http.inject({ method: 'PUT', url: `/v1/tenants/${tenant}/pipelines/hooks`, headers: { 'content-type': 'application/yaml', authorization: `Bearer ${tokens[tenant]}` }, payload: withHooks([`http://127.0.0.1:${port}/hook`, `http://localhost:${port}/hook`]) });
      assert.equal(accepted.statusCode, 201, accepted.body);
      const still = await allowing.http.inject({ method: 'PUT', url: `/v1/tenants/${tenant}/pipelines/hooks`, headers: { 'content-type': 'application/yaml', authorization: `Bearer ${tokens[tenant]}` }, payload: withHooks(['http://10.0.0.8/hook']) });
      assert.equal(still.statusCode, 422, 'the allowlist admits what it names, nothing else');
    } finally {
      await allowing.stop();
    }
    assert.equal(calls, 0, 'an apply resolves names; it never calls a webhook');
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
});

test('dry-run validates as an apply would and runs sample lines, applying nothing; a bad body names its field; only the admin lists tenants', async () => {
  const dryRun = (body: unknown, token = tokens[tenant]) =>
    service.http.inject({ method: 'POST', url: `/v1/tenants/${tenant}/dry-run`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const text = manifest((t) => t.replace('name: checkout-api', 'name: dry-only'));
  const ran = await dryRun({ manifest: text, lines: ['{"level":"info","msg":"paid","time":"2026-11-25T10:00:00Z"}', '{"level":"debug","msg":"x"}', '{"level":"info","msg":"cut'] });
  assert.equal(ran.statusCode, 200, ran.body);
  assert.deepEqual(
    ran.json().results.map((r: { outcome: string }) => r.outcome),
    ['document', 'drop', 'deadLetter'],
  );
  assert.equal(ran.json().results[0].document.message, 'paid');
  assert.equal((await get(`/v1/tenants/${tenant}/pipelines/dry-only`)).statusCode, 404, 'nothing applied');
  const badBody = await dryRun({ manifest: text, lines: 'one line' });
  assert.equal(badBody.statusCode, 400);
  assert.equal(badBody.json().errors[0].path, 'lines');
  const refused = await dryRun({ manifest: text.replace(`namespace: ${tenant}`, `namespace: ${other}`), lines: [] });
  assert.equal(refused.statusCode, 422);
  assert.equal(refused.json().errors[0].path, 'metadata.namespace');
  assert.equal((await dryRun({ manifest: text, lines: [] }, tokens[other])).statusCode, 403, 'another tenant may not');

  const badSelection = await service.http.inject({ method: 'POST', url: `/v1/tenants/${tenant}/deadletters/replay`, headers: { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/json' }, payload: JSON.stringify({ deadLetters: ['0/12', 'twelve'] }) });
  assert.equal(badSelection.statusCode, 400);
  assert.equal(badSelection.json().errors[0].path, 'deadLetters');

  assert.equal((await get('/v1/tenants', tokens[tenant])).statusCode, 403, 'a tenant token does not list tenants');
  const listed = await get('/v1/tenants', admin);
  assert.equal(listed.statusCode, 200);
  assert.ok(listed.json().tenants.includes(tenant));
});

test("the admin's glance: every tenant's lag, its last hour from tributary.traffic and its pipelines in force, in one answer", async () => {
  assert.equal((await get('/v1/traffic', tokens[tenant])).statusCode, 403, 'a tenant token does not see every tenant');
  // A pipeline in force (and the tenant's topics), whichever tests ran before.
  const applied = await put(manifest((t) => t.replace('name: checkout-api', 'name: glance')), { name: 'glance' });
  assert.ok([200, 201].includes(applied.statusCode), applied.body);
  // Two processors' counts for the tenant, as they publish them.
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'control-plane-test' }, logger);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    const one = new TrafficRecorder('processor-1');
    const two = new TrafficRecorder('processor-2');
    for (let i = 0; i < 3; i++) one.count(tenant, 'checkout-api', 'indexed');
    two.count(tenant, 'checkout-api', 'dead_lettered');
    two.count(tenant, null, 'dead_lettered');
    await producer.send({ topic: TRAFFIC_TOPIC, acks: -1, messages: [...one.drain(), ...two.drain()] });
    // Records nobody processed: lag.
    await producer.send({ topic: `logs.${tenant}`, acks: -1, messages: [{ key: 'a', value: 'x' }, { key: 'b', value: 'y' }] });
  } finally {
    await producer.disconnect();
  }
  let row: { tenant: string; lag: number; partitions: number; lastHour: unknown; pipelinesInForce: unknown } | undefined;
  for (let i = 0; i < 40; i++) {
    const answer = await get('/v1/traffic', admin);
    assert.equal(answer.statusCode, 200, answer.body);
    row = answer.json().tenants.find((t: { tenant: string }) => t.tenant === tenant);
    if (JSON.stringify(row?.lastHour) === JSON.stringify({ in: 5, indexed: 3, dropped: 0, deadLettered: 2 }) && (row?.lag ?? 0) >= 2) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.deepEqual(row?.lastHour, { in: 5, indexed: 3, dropped: 0, deadLettered: 2 }, 'both processors, every pipeline (and the undecodable) together');
  assert.ok((row?.lag ?? 0) >= 2, `the unprocessed records are lag (${row?.lag})`);
  assert.equal(row?.partitions, 2);
  const inForce = (await get(`/v1/tenants/${tenant}/pipelines`)).json().pipelines.map((p: { name: string; version: number }) => ({ name: p.name, version: p.version }));
  assert.ok(inForce.length > 0);
  assert.deepEqual(row?.pipelinesInForce, inForce, 'the pipelines in force, as the tenant lists them');
  const perTenant = await get(`/v1/tenants/${tenant}/traffic`);
  assert.deepEqual(perTenant.json().pipelinesLastHour, { '': { in: 1, indexed: 0, dropped: 0, deadLettered: 1 }, 'checkout-api': { in: 4, indexed: 3, dropped: 0, deadLettered: 1 } });
});
