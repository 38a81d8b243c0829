import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { startEngines, groupAlive } from '../index.js';
import { isListening } from '../local/ports.js';

// Starts a second, private set of local engines (the suite's own run on others), so this
// proves start and stop of each engine whatever the run's engines are.
test('local engines start on free loopback ports, answer, and stop leaving no process behind', { skip: process.env['TRIBUTARY_ENGINES'] === 'containers' }, async () => {
  const engines = await startEngines({ mode: 'local', useExisting: false });
  const infos = engines.engines;
  assert.deepEqual(infos.map((e) => e.name).sort(), ['elasticsearch', 'kafka', 'schemaRegistry']);
  for (const info of infos) {
    assert.equal(info.mode, 'local');
    assert.ok(info.pid && groupAlive(info.pid), `${info.name} runs`);
    assert.ok(info.logFile && existsSync(info.logFile), `${info.name} logs to a file`);
  }
  assert.match(engines.kafka.brokers[0] ?? '', /^127\.0\.0\.1:\d+$/);
  assert.match(engines.elasticsearch.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(engines.schemaRegistry.url, /^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
  const ports = [
    Number(engines.kafka.brokers[0]?.split(':')[1]),
    Number(new URL(engines.elasticsearch.url).port),
    Number(new URL(engines.schemaRegistry.url).port),
  ];
  for (const port of ports) assert.equal(await isListening(port), true);

  await Promise.all([engines.stop(), engines.stop()]);
  for (const info of infos) {
    assert.equal(groupAlive(info.pid ?? 0), false, `no process of ${info.name} is left`);
    assert.equal(existsSync(dirname(info.logFile ?? '')), false, `${info.name}'s temp dir is removed`);
  }
  for (const port of ports) assert.equal(await isListening(port), false);
  await engines.stop();
});
