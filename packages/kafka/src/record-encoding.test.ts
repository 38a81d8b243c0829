import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { leanRecordEncoding } from './record-encoding.js';

const require = createRequire(import.meta.url);
const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
type Encoded = { buffer: Buffer };
type RecordFn = (record: Record<string, unknown>) => Encoded;
const Encoder = require('kafkajs/src/protocol/encoder.js') as { new (): Encoded & { writeUVarInt(v: number): void; writeEncoderArray(v: Encoded[]): void } };

/** kafkajs's own record encoder, loaded afresh from its file (the cached module is the lean one). */
function kafkajsRecord(): RecordFn {
  const lean = require.cache[recordPath];
  delete require.cache[recordPath];
  const original = require(recordPath) as RecordFn;
  if (lean) require.cache[recordPath] = lean;
  return original;
}

/** kafkajs 2.2.4's varint, as it writes it (through an array). */
function referenceUVarInt(value: number): Buffer {
  const bytes: number[] = [];
  while ((value & 0xffffff80) !== 0) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value & 0x7f);
  return Buffer.from(bytes);
}

test('installed for kafkajs 2.2.4', () => {
  assert.equal(leanRecordEncoding, true);
  assert.notEqual(require(recordPath), kafkajsRecord());
});

test('the lean record encoding writes the bytes kafkajs writes, for every shape of key, value and delta', () => {
  const lean = require(recordPath) as RecordFn;
  const original = kafkajsRecord();
  let compared = 0;
  for (const key of [null, 'pod/app', Buffer.from('k'), 'ü'.repeat(100)]) {
    for (const value of [null, '', 'x'.repeat(127), 'y'.repeat(128), Buffer.alloc(70_000, 1), 'é'.repeat(300)]) {
      for (const offsetDelta of [0, 1, 63, 64, 8191, 8192, 1 << 20]) {
        for (const timestampDelta of [0, 5, 1000, 1 << 28, 2 ** 40]) {
          const record = { key, value, offsetDelta, timestampDelta };
          assert.deepEqual(lean(record).buffer, original(record).buffer, JSON.stringify({ key: String(key).slice(0, 8), offsetDelta, timestampDelta }));
          compared++;
        }
      }
    }
  }
  const withHeaders = { key: 'k', value: 'v', headers: { trace: 'abc' } };
  assert.deepEqual(lean(withHeaders).buffer, original(withHeaders).buffer, 'headers: kafkajs’s own path');
  assert.equal(compared, 840);
});

test('varints and record arrays come out as kafkajs writes them', () => {
  for (const value of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31 - 1, -1, -64, -(2 ** 31), 4_294_967_295]) {
    const encoder = new Encoder();
    encoder.writeUVarInt(value);
    assert.deepEqual(encoder.buffer, referenceUVarInt(value), String(value));
  }
  const lean = require(recordPath) as RecordFn;
  const parts = [lean({ key: 'a', value: 'b' }), lean({ key: null, value: Buffer.alloc(3000, 7) }), kafkajsRecord()({ key: 'c', value: 'd' })];
  const joined = new Encoder();
  joined.writeEncoderArray(parts);
  assert.deepEqual(joined.buffer, Buffer.concat(parts.map((p) => p.buffer)));
});
