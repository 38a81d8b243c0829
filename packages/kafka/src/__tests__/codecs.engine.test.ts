/**
 * A tenant's app may produce with any codec Kafka knows. A batch a kafkajs consumer can't
 * decompress crashes it without restart (every tenant of that processor would stop), so
 * every client from createKafka reads all four: batches written by librdkafka (kcat) with
 * gzip, snappy, lz4 and zstd all come out whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import { compress } from 'snappyjs';
import { testEngines, uniqueName } from '@tributary/testkit';
import { createKafka } from '../index.js';
import { snappyDecompress } from '../client.js';

const logger = pino({ level: 'silent' });

test('batches compressed with gzip, snappy, lz4 and zstd by another client are all read', { timeout: 120_000 }, async () => {
  const { brokers } = testEngines();
  const kafka = createKafka({ brokers, clientId: 'codecs-test' }, logger);
  const admin = kafka.admin();
  await admin.connect();
  const topic = uniqueName('codecs');
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
  for (const codec of codecs) {
    // Long, repetitive lines: librdkafka sends a batch uncompressed when compressing doesn't shrink it.
    const lines = Array.from({ length: 20 }, (_, i) => `${codec} ${i} ${'x'.repeat(2000)}`).join('\n');
    execFileSync('kcat', ['-P', '-b', brokers.join(','), '-t', topic, '-z', codec], { input: `${lines}\n` });
  }
  const consumer = kafka.consumer({ groupId: uniqueName('codecs-reader') });
  const crashes: string[] = [];
  consumer.on(consumer.events.CRASH, (event) => void crashes.push(String(event.payload.error.message)));
  const got: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`${got.length} of 80 records; crashes: ${crashes.join('; ')}`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(String(message.value));
          if (got.length === 80) {
            clearTimeout(timeout);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  assert.deepEqual(crashes, []);
  for (const codec of codecs) assert.equal(got.filter((v) => v.startsWith(`${codec} `) && v.length > 2000).length, 20, codec);
});

test('snappy: raw, and framed the way snappy-java (the Java client) writes it', () => {
  const text = Buffer.from('tributary '.repeat(500));
  const raw = Buffer.from(compress(new Uint8Array(text)));
  assert.deepEqual(snappyDecompress(raw), text);
  const block = (part: Buffer): Buffer => {
    const compressed = Buffer.from(compress(new Uint8Array(part)));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(compressed.length);
    return Buffer.concat([length, compressed]);
  };
  const header = Buffer.concat([Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
  const framed = Buffer.concat([header, block(text.subarray(0, 2000)), block(text.subarray(2000))]);
  assert.deepEqual(snappyDecompress(framed), text);
  assert.throws(() => snappyDecompress(framed.subarray(0, framed.length - 3)), /runs past the end/);
});
