import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ENGINE_IMAGES } from '@tributary/testkit';

interface Compose {
  services: Record<string, { image?: string; ports?: string[]; environment?: Record<string, string>; healthcheck?: unknown; depends_on?: unknown }>;
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
