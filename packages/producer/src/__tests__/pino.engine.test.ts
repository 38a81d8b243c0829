import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { decodeEnvelope } from '@tributary/envelope';
import { createKafka, ensureTopics, tenantTopics } from '@tributary/kafka';
import { testEngines, uniqueName } from '@tributary/testkit';

const engines = testEngines();

test('an app logging with pino through the transport lands its lines in logs.<tenant>, flushed on close', async () => {
  const tenant = uniqueName('pino');
  const kafka = createKafka({ brokers: engines.brokers, clientId: 'pino-test' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, tenantTopics(tenant, { partitions: 1 }));
  await admin.disconnect();

  const transport = pino.transport({ target: join(import.meta.dirname, '..', '..', 'pino.mjs'), options: { brokers: engines.brokers, tenant, app: 'checkout', host: 'laptop' } });
  const app = pino(transport);
  for (let i = 0; i < 50; i++) app.info({ order: i }, 'order paid');
  app.error('payment gateway down');
  // pino's worker doesn't hold the event loop open (an app may exit): this test must, until it closed.
  const keepAlive = setInterval(() => undefined, 1000);
  const closed = new Promise<void>((resolve) => transport.once('close', () => resolve()));
  transport.end();
  await closed;
  clearInterval(keepAlive);

  const consumer = kafka.consumer({ groupId: uniqueName('pino-reader') });
  await consumer.connect();
  await consumer.subscribe({ topics: [`logs.${tenant}`], fromBeginning: true });
  const got: Array<{ message: string; stream: string; app: unknown }> = [];
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`${got.length} of 51 lines`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = await decodeEnvelope(message.value as Buffer);
        assert.ok(decoded.ok);
        got.push({ message: decoded.envelope.message, stream: decoded.envelope.stream, app: decoded.envelope.source });
        if (got.length === 51) {
          clearTimeout(timeout);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.equal((JSON.parse(got[0]?.message ?? '{}') as { order?: number; msg?: string }).order, 0);
  assert.equal((JSON.parse(got[50]?.message ?? '{}') as { msg?: string }).msg, 'payment gateway down');
  assert.equal(got[50]?.stream, 'stderr', 'error and above go out as stderr');
  assert.deepEqual(got[0]?.app, { kind: 'sdk', app: 'checkout', host: 'laptop' });
});
