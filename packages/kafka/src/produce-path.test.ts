import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
// First: registers the LZ4 codec, and installs the lean path before kafkajs's modules load.
import './client.js';
import kafkajs from 'kafkajs';
import { groupMessagesPerPartition, leanProducePath, type ProduceMessage, type ProduceRequest, type ProduceRequestArgs } from './produce-path.js';

const { CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);
const requestPath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
const groupingPath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): unknown; fromInt(v: number): unknown };

/** A kafkajs module as kafkajs ships it, loaded afresh from its file (the cached one is the lean one). */
function kafkajsOwn<T>(path: string): T {
  const lean = require.cache[path];
  delete require.cache[path];
  const original = require(path) as T;
  if (lean) require.cache[path] = lean;
  return original;
}

async function encoded(request: (args: ProduceRequestArgs) => ProduceRequest, args: ProduceRequestArgs): Promise<Buffer> {
  const now = Date.now;
  Date.now = () => 1_764_064_800_123; // both sides stamp the batch with "now"
  try {
    return (await request(args).encode()).buffer;
  } finally {
    Date.now = now;
  }
}

test('installed for kafkajs 2.2.4', () => {
  assert.deepEqual(leanProducePath, { grouping: true, request: true });
  assert.equal(require(groupingPath), groupMessagesPerPartition);
});

test('the lean produce request writes the bytes kafkajs writes', async () => {
  const lean = require(requestPath) as (args: ProduceRequestArgs) => ProduceRequest;
  const original = kafkajsOwn<(args: ProduceRequestArgs) => ProduceRequest>(requestPath);
  assert.notEqual(lean, original);
  const keys = [null, 'pod-uid/web', Buffer.from('k'), 'ü'.repeat(100)];
  const values = [null, '', 'x'.repeat(127), 'y'.repeat(128), Buffer.alloc(70_000, 1), 'é'.repeat(300), Buffer.from('{"id":"f1-x","message":"hello"}')];
  const messages = (n: number, seed: number): ProduceMessage[] => Array.from({ length: n }, (_, i) => ({ key: keys[(i + seed) % keys.length] as ProduceMessage['key'], value: values[(i * 3 + seed) % values.length] as ProduceMessage['value'] }));
  let compared = 0;
  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.LZ4]) {
    for (const [transactionalId, producerId, producerEpoch] of [[null, Long.fromInt(-1), 0], [null, Long.fromValue(4711), 3], [null, '8001', 0], [null, 8002, 1], ['tx-1', Long.fromValue(2 ** 40 + 5), 32_000]] as const) {
      for (const count of [1, 2, 200, 1500]) {
        const args: ProduceRequestArgs = {
          acks: -1,
          timeout: 30_000,
          transactionalId,
          producerId: producerId as never,
          producerEpoch,
          compression,
          topicData: [
            { topic: 'logs.payments', partitions: [{ partition: 0, messages: messages(count, 1), firstSequence: 0 }, { partition: 5, messages: messages(Math.ceil(count / 3), 2), firstSequence: 2_000_000 }] },
            { topic: 'logs.ünïcode-free-but-long-' + 'x'.repeat(200), partitions: [{ partition: 2, messages: messages(3, 3), firstSequence: 7 }] },
          ],
        };
        assert.deepEqual(await encoded(lean, args), await encoded(original, args), JSON.stringify({ compression, transactionalId, count }));
        compared++;
      }
    }
  }
  assert.equal(compared, 60);
});

test('messages the lean path doesn’t take (headers, timestamps) go kafkajs’s own way, to the same bytes', async () => {
  const lean = require(requestPath) as (args: ProduceRequestArgs) => ProduceRequest;
  const original = kafkajsOwn<(args: ProduceRequestArgs) => ProduceRequest>(requestPath);
  for (const message of [{ key: 'k', value: 'v', headers: { trace: 'abc' } }, { key: 'k', value: 'v', timestamp: '1764064800000' }]) {
    const args: ProduceRequestArgs = { acks: 1, timeout: 1000, compression: CompressionTypes.LZ4, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [message, { key: null, value: 'plain' }] }] }] };
    assert.deepEqual(await encoded(lean, args), await encoded(original, args));
  }
});

test('grouping by partition: the same groups, in the same order, as kafkajs', () => {
  const original = kafkajsOwn<typeof groupMessagesPerPartition>(groupingPath);
  const partitionMetadata = [{}, {}, {}, {}, {}, {}];
  const messages = Array.from({ length: 500 }, (_, i) => ({ key: `stream-${i % 13}`, value: String(i) }));
  const partitioner = ({ message }: { message: ProduceMessage }): number => Number(String(message.key).slice(7)) % 6;
  const ours = groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner });
  assert.deepEqual(ours, original({ topic: 't', partitionMetadata, messages, partitioner }));
  assert.deepEqual(Object.keys(ours), ['0', '1', '2', '3', '4', '5']);
  assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner }), {});
});

test('requests encoded at once, their records in buffers used again, each write the bytes kafkajs writes', async () => {
  const lean = require(requestPath) as (args: ProduceRequestArgs) => ProduceRequest;
  const original = kafkajsOwn<(args: ProduceRequestArgs) => ProduceRequest>(requestPath);
  // LZ4 compresses on libuv's pool: the encodes interleave, and a buffer handed back too early would show.
  const args = Array.from({ length: 12 }, (_, r): ProduceRequestArgs => ({
    acks: -1,
    timeout: 30_000,
    compression: r % 3 === 0 ? CompressionTypes.None : CompressionTypes.LZ4,
    topicData: [{ topic: 'logs.payments', partitions: [0, 1, 2].map((partition) => ({ partition, messages: Array.from({ length: 300 + r * 97 }, (_, i) => ({ key: Buffer.from(`pod-${partition}/web`), value: Buffer.from(`{"round":${r},"partition":${partition},"line":${i},"pad":"${'x'.repeat((i * 7) % 900)}"}`) })) })) }],
  }));
  const now = Date.now;
  Date.now = () => 1_764_064_800_123;
  try {
    const ours = await Promise.all(args.map(async (a) => (await lean(a).encode()).buffer));
    const theirs = await Promise.all(args.map(async (a) => (await original(a).encode()).buffer));
    for (let r = 0; r < args.length; r++) assert.ok((ours[r] as Buffer).equals(theirs[r] as Buffer), `request ${r}`);
  } finally {
    Date.now = now;
  }
});
