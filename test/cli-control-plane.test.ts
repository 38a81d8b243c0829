import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { ControlPlane } from '@tributary/control-plane';
import { testEngines, uniqueName } from '@tributary/testkit';

const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const example = readFileSync(join(import.meta.dirname, '..', 'packages', 'pipeline', 'examples', 'checkout-api.yaml'), 'utf8');
const tenant = uniqueName('cli');
const token = 'cli-test-token-0123456789';
let service: ControlPlane;
let dir: string;

before(async () => {
  const engines = testEngines();
  service = new ControlPlane({
    brokers: engines.brokers,
    elasticsearchUrl: engines.elasticsearchUrl,
    port: 0,
    host: '127.0.0.1',
    tokens: { tenants: { [tenant]: [token] } },
    topics: { partitions: 1 },
    logger: pino({ level: 'silent' }),
  });
  await service.start();
  dir = mkdtempSync(join(tmpdir(), 'tributary-cli-cp-'));
});
after(async () => {
  await service.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function tributary(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, TRIBUTARY_SERVER: service.address, TRIBUTARY_TOKEN: token };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('apply, get, status and delete through the control plane; errors come back positioned in the file', async () => {
  const file = join(dir, 'pipelines.yaml');
  const good = example.replace('namespace: payments', `namespace: ${tenant}`);
  const bad = good.replace('name: checkout-api', 'name: broken').replace('- json: { field: message }', '- json: { field: message, bogus: 1 }');
  writeFileSync(file, `${good}---\n${bad}`);
  const badLine = `${good}---\n${bad}`.split('\n').findIndex((line) => line.includes('bogus')) + 1;

  const applied = await tributary('apply', '-f', file);
  assert.equal(applied.code, 1, 'one document was rejected');
  assert.match(applied.stdout, new RegExp(`^created  ${tenant}/checkout-api  version 1$`, 'm'));
  assert.match(applied.stdout, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${badLine}:31  spec\\.parse\\[0\\]\\.json\\.bogus: unknown field "bogus"`, 'm'));

  const list = await tributary('get', tenant);
  assert.match(list.stdout, /^checkout-api\s+version 1\s/m);
  const one = await tributary('get', tenant, 'checkout-api');
  assert.match(one.stdout, /^# version 1, applied /);
  assert.match(one.stdout, new RegExp(`namespace: ${tenant}`));

  const status = await tributary('status', tenant, 'broken');
  assert.match(status.stdout, /^in force: {6}nothing$/m);
  assert.match(status.stdout, /^last attempt: {2}rejected at /m);
  assert.match(status.stdout, /spec\.parse\[0\]\.json\.bogus: unknown field/);

  const foreign = await tributary('get', uniqueName('other'));
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /403: this token may not act for tenant/);

  assert.equal((await tributary('delete', tenant, 'checkout-api')).code, 0);
  assert.match((await tributary('get', tenant)).stdout, /no pipelines/);
  const noToken = await promisify(execFile)(process.execPath, [bin, 'get', tenant], { env: { ...process.env, TRIBUTARY_TOKEN: '' } }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((noToken as { code: number }).code, 2);
});
