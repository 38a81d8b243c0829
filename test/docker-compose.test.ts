import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ENGINE_IMAGES } from '@tributary/testkit';

interface Compose {
  services: Record<string, { image?: string; build?: string; command?: string[]; ports?: string[]; environment?: Record<string, string>; healthcheck?: unknown; depends_on?: unknown; stop_grace_period?: string }>;
}

const compose = parse(readFileSync(join(import.meta.dirname, '..', 'docker-compose.yml'), 'utf8')) as Compose;

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
  for (const [name, port] of [['control-plane', '8080'], ['processor', '9090'], ['notifier', '9095']] as const) {
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
    if (name !== 'notifier') assert.equal(service.environment?.['ELASTICSEARCH_URL'], 'http://elasticsearch:9200');
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
