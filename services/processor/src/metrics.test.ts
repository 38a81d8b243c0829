import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tenantOfTopic } from '@tributary/kafka';
import { ProcessorMetrics } from './metrics.js';

async function series(metrics: ProcessorMetrics, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return (await metric.get()).values.map((v) => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value }));
}

test('pipeline changes set the version in force, deletes remove it, and every record counts as a reload', async () => {
  const metrics = new ProcessorMetrics();
  metrics.pipelineChanged({ tenant: 'shop', name: 'checkout', version: 1 });
  metrics.pipelineChanged({ tenant: 'shop', name: 'checkout', version: 2 });
  metrics.pipelineChanged({ tenant: 'shop', name: 'search', version: 5 });
  metrics.pipelineChanged({ tenant: 'shop', name: 'search', version: null });
  metrics.pipelineRejected();
  assert.deepEqual(await series(metrics, 'tributary_processor_pipeline_version'), [{ labels: { tenant: 'shop', pipeline: 'checkout' }, value: 2 }]);
  const reloads = await series(metrics, 'tributary_processor_pipeline_reloads_total');
  assert.deepEqual(Object.fromEntries(reloads.map((r) => [r.labels['outcome'], r.value])), { applied: 3, deleted: 1, rejected: 1 });
});

test('lag is kept for assigned partitions only, never negative', async () => {
  const metrics = new ProcessorMetrics();
  metrics.setLag('logs.a', 0, 12n);
  metrics.setLag('logs.a', 1, '3');
  metrics.setLag('logs.b', 0, -1);
  metrics.setLag('logs.c', 0, 'not a number');
  const lag = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await series(metrics, 'tributary_processor_consumer_lag')).map((s) => [`${s.labels['topic']}/${s.labels['partition']}`, s.value]));
  assert.deepEqual(await lag(), { 'logs.a/0': 12, 'logs.a/1': 3, 'logs.b/0': 0, 'logs.c/0': 0 });
  metrics.retainPartitions({ 'logs.a': [1], 'logs.b': [0, 1] });
  assert.deepEqual(await lag(), { 'logs.a/1': 3, 'logs.b/0': 0 });
  metrics.retainPartitions();
  assert.deepEqual(await lag(), {});
});

test('every metric is prefixed and the default process metrics are there, in this instance only', async () => {
  const metrics = new ProcessorMetrics();
  const text = await metrics.registry.metrics();
  assert.match(text, /^tributary_processor_process_cpu_user_seconds_total /m);
  for (const name of text.matchAll(/^# TYPE (\S+)/gm)) assert.ok(name[1]?.startsWith('tributary_processor_'), name[1]);
  // No global registry: two instances count apart.
  const other = new ProcessorMetrics();
  metrics.recordsIn.inc({ tenant: 'shop' }, 2);
  assert.deepEqual(await series(other, 'tributary_processor_records_in_total'), []);
});

test('the tenant of a topic is its logs.<tenant> name, nothing else', () => {
  assert.equal(tenantOfTopic('logs.shop'), 'shop');
  assert.equal(tenantOfTopic('dlq.shop'), undefined);
  assert.equal(tenantOfTopic('logs.Not_A_Tenant'), undefined);
  assert.equal(tenantOfTopic('tributary.pipelines'), undefined);
});
