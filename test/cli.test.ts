import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { groupAlive, type BackgroundState } from '@tributary/testkit';

const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js');
const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the real command; without engine variables, so `engines start` starts its own. */
async function tributary(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'ELASTICSEARCH_URL', 'SCHEMA_REGISTRY_URL']) delete env[name];
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('--help works at every level', async () => {
  for (const args of [[], ['engines'], ['engines', 'start'], ['engines', 'status'], ['engines', 'stop'], ['engines', 'run'], ['engines', 'prepare'], ['up'], ['validate'], ['test'], ['dry-run'], ['apply'], ['get'], ['status'], ['delete'], ['control-plane'], ['notifier'], ['operator'], ['lag'], ['topics'], ['topics', 'raise'], ['dlq'], ['dlq', 'list'], ['dlq', 'show'], ['dlq', 'replay'], ['dlq', 'purge']]) {
    const result = await tributary(...args, '--help');
    assert.equal(result.code, 0, args.join(' '));
    assert.match(result.stdout, /^Usage: tributary/m, args.join(' '));
  }
});

test('bad input gets a clear error and a non-zero exit', async () => {
  const unknown = await tributary('bogus');
  assert.equal(unknown.code, 2, 'usage errors exit 2');
  assert.match(unknown.stderr, /unknown command 'bogus'/);
  const badMode = await tributary('engines', 'start', '--mode', 'docker');
  assert.notEqual(badMode.code, 0);
  assert.match(badMode.stderr, /--mode <mode>' argument 'docker' is invalid/);
  const badLevel = await run(process.execPath, [bin, 'engines', 'status'], { env: { ...process.env, LOG_LEVEL: 'loud' } }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((badLevel as { code: number }).code, 2);
  assert.match((badLevel as { stderr: string }).stderr, /LOG_LEVEL "loud" is not one of/);
});

test('validate checks manifests offline: 0 valid, 1 rejected with positioned errors, 2 usage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-validate-'));
  try {
    const example = join(import.meta.dirname, '..', 'packages', 'pipeline', 'examples', 'checkout-api.yaml');
    const ok = await tributary('validate', '-f', example);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^valid {2}payments\/checkout-api/m);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(example, 'utf8').replace('- json: { field: message }', '- json: { field: message, into: x }'));
    const rejected = await tributary('validate', '-f', example, bad);
    assert.equal(rejected.code, 1);
    assert.match(rejected.stdout, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:12:31 {2}spec\\.parse\\[0\\]\\.json\\.into: unknown field "into"`, 'm'));

    const missing = await tributary('validate', '-f', join(dir, 'nope.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.yaml: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('test runs the manifest tests and shows expected vs actual; dry-run prints outcomes per line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-test-'));
  try {
    const example = join(import.meta.dirname, '..', 'packages', 'pipeline', 'examples', 'checkout-api.yaml');
    const passing = await tributary('test', '-f', example);
    assert.equal(passing.code, 0, passing.stdout);
    assert.match(passing.stdout, /^3 passed, 0 failed$/m);

    const failing = join(dir, 'failing.yaml');
    writeFileSync(failing, readFileSync(example, 'utf8').replace('fields: { log.level: info, message: paid }', 'fields: { log.level: error, message: paid }'));
    const failed = await tributary('test', '-f', failing);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /✖ a paid order is indexed with ECS fields {2}\(.*failing\.yaml:\d+:\d+\)\n {6}log\.level\n {8}- expected: error\n {8}\+ actual: {3}info/);
    assert.match(failed.stdout, /^2 passed, 1 failed$/m);

    const sample = join(dir, 'sample.log');
    writeFileSync(sample, ['{"level":"info","msg":"paid 4111 1111 1111 1111","time":"2026-11-25T10:00:00.5Z"}', '{"level":"debug","msg":"x"}', '{"level":'].join('\n'));
    const dry = await tributary('dry-run', '-f', example, '-i', sample);
    assert.equal(dry.code, 0, dry.stderr);
    const [doc, drop, dead] = dry.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(doc?.['outcome'], 'document');
    assert.equal(doc?.['index'], 'logs.payments.checkout-2026.11.25');
    assert.equal((doc?.['document'] as { message: string }).message, 'paid ***************1111');
    assert.deepEqual(drop, { line: 2, outcome: 'drop', step: 'spec.filter[0]' });
    assert.equal(dead?.['outcome'], 'deadLetter');
    assert.equal(dead?.['class'], 'parse');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engines start / status / stop run Kafka in the background for clients that are not ours', { skip: process.env['TRIBUTARY_ENGINES'] === 'containers' }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tributary-cli-'));
  try {
    const none = await tributary('engines', 'status', '--state-dir', stateDir);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no engines running/);

    const start = await tributary('engines', 'start', '--no-elasticsearch', '--no-schema-registry', '--mode', 'local', '--state-dir', stateDir);
    assert.equal(start.code, 0, start.stderr);
    const firstBrokers = /^KAFKA_BROKERS=(127\.0\.0\.1:\d+)$/m.exec(start.stdout)?.[1];
    assert.ok(firstBrokers, start.stdout);
    assert.equal(readFileSync(join(stateDir, 'engines.env'), 'utf8'), `KAFKA_BROKERS=${firstBrokers}\n`);
    const first = JSON.parse(readFileSync(join(stateDir, 'engines.json'), 'utf8')) as BackgroundState;

    const again = await tributary('engines', 'start', '--no-elasticsearch', '--no-schema-registry', '--state-dir', stateDir);
    assert.match(again.stdout, new RegExp(`KAFKA_BROKERS=${firstBrokers}`), 'a second start reuses the running engines');

    // A supervisor killed outright can't stop its engines; the next start ends them.
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => !alive(first.pid));
    assert.equal((await tributary('engines', 'status', '--state-dir', stateDir)).code, 1);
    const restart = await tributary('engines', 'start', '--no-elasticsearch', '--no-schema-registry', '--mode', 'local', '--state-dir', stateDir);
    assert.equal(restart.code, 0, restart.stderr);
    for (const engine of first.engines) assert.equal(groupAlive(engine.pid ?? 0), false, `the orphaned ${engine.name} was stopped`);
    const brokers = /^KAFKA_BROKERS=(127\.0\.0\.1:\d+)$/m.exec(restart.stdout)?.[1] ?? '';
    const state = JSON.parse(readFileSync(join(stateDir, 'engines.json'), 'utf8')) as BackgroundState;

    const status = await tributary('engines', 'status', '--state-dir', stateDir);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /^kafka\s+up\s+local\s+127\.0\.0\.1:\d+/m);

    if (existsSync('/usr/bin/kcat')) {
      assert.match(execFileSync('kcat', ['-b', brokers, '-L'], { encoding: 'utf8' }), /1 brokers:/);
    }

    const stop = await tributary('engines', 'stop', '--state-dir', stateDir);
    assert.equal(stop.code, 0);
    assert.match(stop.stderr, /engines stopped/);
    assert.throws(() => process.kill(state.pid, 0), /ESRCH/, 'the background supervisor is gone');
    for (const engine of state.engines) assert.equal(groupAlive(engine.pid ?? 0), false, `no ${engine.name} process is left`);
    assert.equal(existsSync(join(stateDir, 'engines.env')), false);
    assert.equal((await tributary('engines', 'status', '--state-dir', stateDir)).code, 1);
  } finally {
    await tributary('engines', 'stop', '--state-dir', stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
});
