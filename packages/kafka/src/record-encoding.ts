import { createRequire } from 'node:module';
import { bytesLength, bytesLike, putRecord, putUVarInt, recordSize, smallInt } from './internal/varint.js';

/**
 * Leaner record encoding for kafkajs 2.2.4, installed once at import. kafkajs encodes every
 * record into a zero-filled 512-byte buffer grown to 1 KiB by another, writes each varint
 * through a temporary array and `Buffer.from`, and grows a request's record list by
 * doubling zero-filled buffers: in the forwarder's profile that was a third of its CPU and
 * most of its GC. The replacements write the same bytes (the engine tests read them back
 * with kafkajs and with librdkafka through kcat): exact-size buffers from the pool, varints
 * written in place, arrays sized once. Only for the kafkajs version they were written
 * against: any other is left as it is.
 */

interface EncoderInstance {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeVarInt(value: number): EncoderInstance;
  writeUVarInt(value: number): EncoderInstance;
  readonly buffer: Buffer;
}

interface EncoderClass {
  new (initialSize?: number): EncoderInstance;
  prototype: EncoderInstance & { writeEncoderArray(value: EncoderInstance[]): EncoderInstance };
  nextPowerOfTwo(value: number): number;
}

type RecordEncoder = (record: { offsetDelta?: number; timestampDelta?: number; key?: Buffer | string | null; value?: Buffer | string | null; headers?: Record<string, unknown> }) => EncoderInstance;

const KAFKAJS_VERSION = '2.2.4';

/** Whether the lean encoding is in place (false for another kafkajs version, or when kafkajs had already loaded its produce request). */
export const leanRecordEncoding: boolean = install();

function install(): boolean {
  const require = createRequire(import.meta.url);
  let version: string;
  try {
    version = (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return false;
  }
  if (version !== KAFKAJS_VERSION) return false;
  const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
  const requestPath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
  // The produce request takes its record encoder when it loads: too late once it has.
  if (require.cache[requestPath]) return false;
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
  const original = require(recordPath) as RecordEncoder;

  Encoder.prototype.ensureAvailable = function ensureAvailable(this: EncoderInstance, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    // Every byte up to `offset` is written before it is read (`buffer` ends there): no need to zero.
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };

  Encoder.prototype.writeUVarInt = function writeUVarInt(this: EncoderInstance, value: number): EncoderInstance {
    this.ensureAvailable(5);
    this.offset = putUVarInt(this.buf, this.offset, value);
    return this;
  };

  Encoder.prototype.writeEncoderArray = function writeEncoderArray(this: EncoderInstance, value: EncoderInstance[]): EncoderInstance {
    if (!Array.isArray(value) || value.some((v) => v == null || !Buffer.isBuffer(v.buf))) throw new Error('all values should be an instance of Encoder[]');
    let total = 0;
    for (const encoder of value) total += encoder.offset;
    this.ensureAvailable(total);
    for (const encoder of value) {
      encoder.buf.copy(this.buf, this.offset, 0, encoder.offset);
      this.offset += encoder.offset;
    }
    return this;
  };

  const lean: RecordEncoder = (record) => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = record;
    // The common case only: strings, Buffers or null, no headers, small deltas. Anything else as kafkajs does it.
    if ((headers && Object.keys(headers).length > 0) || !smallInt(offsetDelta) || !smallInt(timestampDelta) || !bytesLike(key) || !bytesLike(value)) return original(record);
    const keyLength = bytesLength(key);
    const valueLength = bytesLength(value);
    const buf = Buffer.allocUnsafe(recordSize(offsetDelta, timestampDelta, keyLength, valueLength));
    const at = putRecord(buf, 0, offsetDelta, timestampDelta, key, keyLength, value, valueLength);
    // An Encoder holding exactly the record (kafkajs reads `buf`, `offset` and `buffer`).
    const encoder = Object.create(Encoder.prototype) as EncoderInstance;
    encoder.buf = buf;
    encoder.offset = at;
    return encoder;
  };
  (require.cache[recordPath] as NodeJS.Module).exports = lean;
  return true;
}
