import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseCriLine, parsePodLogPath } from '@tributary/container-log';
import { ENGINE_IMAGES } from '@tributary/testkit';

interface Compose {
  services: Record<string, { image?: string; build?: string; command?: string[]; ports?: string[]; environment?: Record<string, string>; healthcheck?: unknown; depends_on?: unknown; stop_grace_period?: string; volumes?: string[] }>;
}

const root = join(import.meta.dirname, '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as Compose;

/** A service's bind mounts: container path → the repo file or directory it shows. */
function mounts(name: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const volume of compose.services[name]?.volumes ?? []) {
    const [from = '', to = ''] = volume.split(':');
    if (from.startsWith('./')) found.set(to, join(root, from));
  }
  return found;
}

test('docker-compose.yml runs the same engine images as the test kit', () => {
  assert.equal(compose.services['kafka']?.image, ENGINE_IMAGES.kafka);
  assert.equal(compose.services['elasticsearch']?.image, ENGINE_IMAGES.elasticsearch);
  assert.equal(compose.services['schema-registry']?.image, ENGINE_IMAGES.schemaRegistry);
});

test('every engine has a health check and a published port', () => {
  for (const name of ['kafka', 'elasticsearch', 'schema-registry']) {
    const service = compose.services[name];
    assert.ok(service?.healthcheck, `${name} has a healthcheck`);
    assert.ok(service?.ports?.length, `${name} publishes a port`);
  }
});

test('Kafka advertises the address clients on the host use', () => {
  const env = compose.services['kafka']?.environment ?? {};
  assert.match(env['KAFKA_ADVERTISED_LISTENERS'] ?? '', /localhost:9092/);
  assert.ok(compose.services['kafka']?.ports?.some((p) => p.startsWith('9092:')));
});

/** `tributary <command> --help`, from the real CLI. */
function help(command: string): string {
  return execFileSync(process.execPath, [join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'tributary.js'), command, '--help'], { encoding: 'utf8' });
}

test('the Tributary services run real subcommands with flags the CLI accepts, on the ports they publish', () => {
  for (const [name, port] of [['control-plane', '8080'], ['processor', '9090'], ['notifier', '9095'], ['forwarder', '9091']] as const) {
    const service = compose.services[name];
    assert.ok(service, `${name} is in the compose file`);
    assert.equal(service.build, '.', `${name} is built from the repo's Dockerfile`);
    const [command, ...args] = service.command ?? [];
    assert.equal(command, name);
    const usage = help(command);
    for (const flag of args.filter((a) => a.startsWith('--'))) assert.ok(usage.includes(flag), `tributary ${command} accepts ${flag}`);
    assert.ok(args.includes(port), `${name} listens on ${port}`);
    assert.ok(service.ports?.includes(`${port}:${port}`), `${name} publishes ${port}`);
    assert.match(JSON.stringify(service.healthcheck), new RegExp(`localhost:${port}/readyz`), `${name} is healthy when ready`);
    // The engines by their in-network names: the broker's PLAINTEXT listener, not the host's.
    assert.equal(service.environment?.['KAFKA_BROKERS'], 'kafka:19092');
    if (name === 'control-plane' || name === 'processor') assert.equal(service.environment?.['ELASTICSEARCH_URL'], 'http://elasticsearch:9200');
    for (const variable of Object.keys(service.environment ?? {})) assert.ok(usage.includes(variable) || variable === 'SCHEMA_REGISTRY_URL', `tributary ${command} reads ${variable}`);
  }
  assert.match(compose.services['kafka']?.environment?.['KAFKA_ADVERTISED_LISTENERS'] ?? '', /PLAINTEXT:\/\/kafka:19092/);
  // SIGTERM drains (--shutdown-timeout-ms, 10 s by default) before Docker's SIGKILL.
  assert.equal(compose.services['processor']?.stop_grace_period, '30s');
  assert.match(help('processor'), /--shutdown-timeout-ms/);
});

test('the Dockerfile runs the CLI from a full npm ci of the workspaces', () => {
  const dockerfile = readFileSync(join(import.meta.dirname, '..', 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM node:20-bookworm$/m);
  assert.match(dockerfile, /npm ci/);
  for (const path of ['packages', 'services', 'package-lock.json']) assert.match(dockerfile, new RegExp(`COPY .*${path}`));
  assert.match(dockerfile, /ENTRYPOINT \["node", "packages\/cli\/bin\/tributary.js"\]/);
});

test('Prometheus scrapes every Tributary service the compose file runs, under the job names the rules and dashboards read, and loads the alert rules', () => {
  const rulesIn = mounts('prometheus');
  const configFile = rulesIn.get('/etc/prometheus/prometheus.yml');
  assert.ok(configFile, 'a mounted prometheus.yml');
  const config = parse(readFileSync(configFile, 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
  for (const name of ['control-plane', 'processor', 'notifier', 'forwarder']) {
    const port = (compose.services[name]?.ports?.[0] ?? '').split(':')[1];
    const job = config.scrape_configs.find((j) => j.job_name === `tributary-${name}`);
    assert.deepEqual(job?.static_configs.flatMap((c) => c.targets), [`${name}:${port}`], `tributary-${name} scrapes ${name}:${port}`);
  }
  assert.deepEqual(config.rule_files.map((f) => rulesIn.get(f)), [join(root, 'deploy', 'prometheus', 'tributary-rules.yaml')], 'the rules promtool tests');
  // promtool reads the configuration (and the rules it names) as Prometheus would; the rule path points at the repo's file here.
  const dir = mkdtempSync(join(tmpdir(), 'compose-prometheus-'));
  try {
    writeFileSync(join(dir, 'prometheus.yml'), readFileSync(configFile, 'utf8').replace(config.rule_files[0] as string, join(root, 'deploy', 'prometheus', 'tributary-rules.yaml')));
    execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Grafana provisions the stack\'s Prometheus as the default data source and the dashboards of deploy/grafana', () => {
  const files = mounts('grafana');
  assert.equal(files.get('/var/lib/grafana/dashboards'), join(root, 'deploy', 'grafana'));
  const provider = parse(readFileSync(files.get('/etc/grafana/provisioning/dashboards/tributary.yaml') ?? '', 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
  assert.deepEqual(provider.providers.map((p) => [p.type, p.options.path]), [['file', '/var/lib/grafana/dashboards']]);
  const sources = parse(readFileSync(files.get('/etc/grafana/provisioning/datasources/tributary.yaml') ?? '', 'utf8')) as { datasources: Array<{ type: string; url: string; isDefault: boolean }> };
  // Grafana reaches Prometheus inside the network, on the port it listens on (9090; the host sees 9099).
  const listens = (compose.services['prometheus']?.ports?.[0] ?? '').split(':')[1];
  assert.deepEqual(sources.datasources.map((d) => [d.type, d.url, d.isDefault]), [['prometheus', `http://prometheus:${listens}`, true]]);
  assert.ok(readdirSync(join(root, 'deploy', 'grafana')).filter((f) => f.endsWith('.json')).length >= 2, 'the dashboards are there to mount');
});

test('demo-logs writes a pod log file the forwarder reads as the demo tenant\'s, in CRI format, under the root the forwarder tails', () => {
  const demo = compose.services['demo-logs'];
  const script = demo?.command?.[2] ?? '';
  assert.ok((demo?.volumes ?? []).includes('pod-logs:/var/log/pods') && (compose.services['forwarder']?.volumes ?? []).includes('pod-logs:/var/log/pods:ro'), 'one volume, read-only for the forwarder');
  // The script as the container's shell runs it ($$ is compose's escape for $), for two seconds, into a scratch root.
  const dir = mkdtempSync(join(tmpdir(), 'compose-demo-'));
  try {
    const shell = script.replaceAll('$$', '$').replaceAll('/var/log/pods', dir).replace('sleep 1', 'sleep 0.1');
    try {
      execFileSync('sh', ['-c', shell], { timeout: 2000 });
    } catch (err) {
      assert.equal((err as { signal?: string }).signal, 'SIGTERM', 'the loop runs until stopped');
    }
    const [pod = ''] = readdirSync(dir);
    const path = parsePodLogPath(join(dir, pod, 'api', '0.log'));
    assert.ok(path.ok, `a kubelet pod log path: ${JSON.stringify(path)}`);
    assert.equal(path.file.namespace, 'payments', 'the demo tenant');
    const lines = readFileSync(join(dir, pod, 'api', '0.log'), 'utf8').trimEnd().split('\n');
    assert.ok(lines.length >= 10, `lines written (${lines.length})`);
    for (const line of lines) assert.ok(parseCriLine(Buffer.from(line)).ok, `a CRI line: ${line}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
