import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { bytesLength, bytesLike, putRecord, recordSize } from './internal/varint.js';

/**
 * A leaner produce path for kafkajs 2.2.4, installed once at import, before kafkajs loads.
 * Two of kafkajs's per-message costs were most of the forwarder's Kafka CPU:
 *
 * - grouping a request's messages by partition copied the partition's growing array for
 *   every message (`[...current, message]`: quadratic in the batch);
 * - the produce request spread every message into a new object, encoded each record into a
 *   buffer of its own, joined them, and only then compressed them.
 *
 * The replacements write the same bytes (a test holds them equal to kafkajs's for every
 * shape it takes; anything else — headers, timestamps, values that aren't bytes — goes
 * kafkajs's own way): messages grouped in one pass, and each partition's records written
 * straight into one buffer, compressed, framed and checksummed. Connections, metadata,
 * retries, idempotence and sequence numbers stay kafkajs's. Only for the kafkajs version
 * this was written against, and only if kafkajs hasn't loaded the modules yet.
 */

const KAFKAJS_VERSION = '2.2.4';
/** Buffers for a partition's records: at least this large, at most this many kept, none kept larger. */
const SCRATCH_BYTES = 1024 * 1024;
const SCRATCH_KEPT = 4;
const SCRATCH_MAX_BYTES = 16 * 1024 * 1024;

interface Long {
  getHighBits(): number;
  getLowBits(): number;
}
interface LongClass {
  fromInt(value: number): Long;
  fromValue(value: unknown): Long;
}
interface EncoderInstance {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}
interface Codec {
  compress(encoder: EncoderInstance): Promise<Buffer>;
}

export interface ProduceMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, unknown>;
  timestamp?: string | number;
  partition?: number;
}
interface PartitionData {
  partition: number;
  messages: ProduceMessage[];
  firstSequence?: number;
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  /** A number, numeric string or Long (kafkajs's idempotent producer passes what InitProducerId returned). */
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}
export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<EncoderInstance>;
}
type Grouping = (args: { topic: string; partitionMetadata: unknown[]; messages: ProduceMessage[]; partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: ProduceMessage }) => number }) => Record<number, ProduceMessage[]>;

const require = createRequire(import.meta.url);

/** Whether the lean produce path is in place: false for another kafkajs version, or when kafkajs had loaded first. */
export const leanProducePath: { readonly grouping: boolean; readonly request: boolean } = install();

function install(): { grouping: boolean; request: boolean } {
  let version: string;
  try {
    version = (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return { grouping: false, request: false };
  }
  if (version !== KAFKAJS_VERSION) return { grouping: false, request: false };
  return { grouping: installGrouping(), request: installRequest() };
}

/** Messages grouped by partition in one pass: the same groups, in the same order, as kafkajs's. */
export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: Parameters<Grouping>[0]): ReturnType<Grouping> {
  const groups: Record<number, ProduceMessage[]> = {};
  if (partitionMetadata.length === 0) return groups;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const group = groups[partition];
    if (group) group.push(message);
    else groups[partition] = [message];
  }
  return groups;
}

function installGrouping(): boolean {
  const path = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
  // kafkajs's sendMessages takes the function when it loads: the module must be ours before then.
  if (require.cache[require.resolve('kafkajs/src/producer/sendMessages.js')]) return false;
  const module = new Module(path);
  module.filename = path;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(path));
  module.exports = groupMessagesPerPartition;
  module.loaded = true;
  require.cache[path] = module as unknown as NodeJS.Module;
  return true;
}

function installRequest(): boolean {
  const path = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
  // v4–v7 wrap v3 and load it when they load: it must be ours before any of them does.
  if (require.cache[path]) return false;
  const original = require(path) as (args: ProduceRequestArgs) => ProduceRequest;
  (require.cache[path] as unknown as NodeJS.Module).exports = leanProduceRequest(original);
  return true;
}

/** Bytes of a record batch before its records: base offset … record count (Kafka's DefaultRecordBatch). */
const BATCH_HEADER_BYTES = 61;
/** Where the CRC-32C'd part of a batch starts: after base offset, length, leader epoch, magic and the CRC. */
const CRC_FROM = 21;
const TRANSACTIONAL = 0x10;

/** Whether every message takes the lean path: byte keys and values, no headers, no timestamps. */
function lean(topicData: TopicData[]): boolean {
  for (const { partitions } of topicData) {
    for (const { messages } of partitions) {
      for (const message of messages) {
        if (message.timestamp != null || !bytesLike(message.key) || !bytesLike(message.value)) return false;
        if (message.headers && Object.keys(message.headers).length > 0) return false;
      }
    }
  }
  return true;
}

/** kafkajs's produce request (v3, which v4–v7 wrap), writing each partition's batch in one buffer. */
export function leanProduceRequest(original: (args: ProduceRequestArgs) => ProduceRequest): (args: ProduceRequestArgs) => ProduceRequest {
  const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: EncoderInstance };
  const Long = require('kafkajs/src/utils/long.js') as LongClass;
  const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as { lookupCodec(type: number): Codec | null };
  const apiKey = (require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number }).Produce;
  const encoderOf = (buf: Buffer, length: number): EncoderInstance => {
    const encoder = Object.create(Encoder.prototype) as EncoderInstance;
    encoder.buf = buf;
    encoder.offset = length;
    return encoder;
  };
  // A partition's records are garbage once compressed (or copied into their batch): their
  // buffers are used again rather than allocated per request. Off the heap, each new one
  // counted as external memory, and that pressure made most of the collections.
  const scratch: ArrayBuffer[] = [];
  /** `size` bytes of a kept buffer, or of a new one. */
  const scratchFor = (size: number): Buffer => {
    const index = scratch.findIndex((b) => b.byteLength >= size);
    const memory = index >= 0 ? (scratch.splice(index, 1)[0] as ArrayBuffer) : Buffer.allocUnsafeSlow(Math.max(size, SCRATCH_BYTES)).buffer;
    return Buffer.from(memory, 0, size);
  };
  /** `records` (from `scratchFor`) is no longer read. */
  const release = (records: Buffer): void => {
    const memory = records.buffer as ArrayBuffer;
    if (scratch.length < SCRATCH_KEPT && memory.byteLength <= SCRATCH_MAX_BYTES) scratch.push(memory);
  };

  return (args) => {
    if (!lean(args.topicData)) return original(args);
    const { acks, timeout, transactionalId = null, producerEpoch = 0, compression = 0, topicData } = args;
    const producerId = args.producerId ?? Long.fromInt(-1);
    return {
      apiKey,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      encode: async () => {
        const codec = compression === 0 ? null : lookupCodec(compression);
        const now = Date.now();
        const topics: Array<{ name: Buffer; batches: Array<{ partition: number; batch: Buffer }> }> = [];
        let size = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) + 2 + 4 + 4;
        for (const { topic, partitions } of topicData) {
          const batches: Array<{ partition: number; batch: Buffer }> = [];
          for (const { partition, messages, firstSequence = 0 } of partitions) {
            const records = recordsOf(messages, scratchFor);
            const payload = codec ? await codec.compress(encoderOf(records, records.length)) : records;
            const batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + payload.length);
            const attributes = (compression & 0x07) | (transactionalId ? TRANSACTIONAL : 0);
            batch.writeInt32BE(0, 0); // base offset, int64
            batch.writeInt32BE(0, 4);
            batch.writeInt32BE(batch.length - 12, 8);
            batch.writeInt32BE(0, 12); // partition leader epoch
            batch.writeInt8(2, 16); // magic
            batch.writeInt16BE(attributes, 21);
            batch.writeInt32BE(messages.length - 1, 23); // last offset delta
            writeInt64(batch, 27, Long.fromValue(now));
            writeInt64(batch, 35, Long.fromValue(now));
            writeInt64(batch, 43, Long.fromValue(producerId));
            batch.writeInt16BE(producerEpoch, 51);
            batch.writeInt32BE(firstSequence, 53);
            batch.writeInt32BE(messages.length, 57);
            payload.copy(batch, BATCH_HEADER_BYTES);
            release(records);
            // CRC-32C in native code (SSE 4.2 / ARMv8 CRC), 11× kafkajs's table in JavaScript, which was 3–4 % of the forwarder's CPU.
            batch.writeUInt32BE(crc32c(batch.subarray(CRC_FROM)) >>> 0, 17);
            batches.push({ partition, batch });
            size += 4 + 4 + batch.length;
          }
          const name = Buffer.from(topic);
          topics.push({ name, batches });
          size += 2 + name.length + 4;
        }
        const out = Buffer.allocUnsafe(size);
        let at = 0;
        if (transactionalId === null) at = out.writeInt16BE(-1, at);
        else {
          at = out.writeInt16BE(Buffer.byteLength(transactionalId), at);
          at += out.write(transactionalId, at, 'utf8');
        }
        at = out.writeInt16BE(acks, at);
        at = out.writeInt32BE(timeout, at);
        at = out.writeInt32BE(topics.length, at);
        for (const { name, batches } of topics) {
          at = out.writeInt16BE(name.length, at);
          at += name.copy(out, at);
          at = out.writeInt32BE(batches.length, at);
          for (const { partition, batch } of batches) {
            at = out.writeInt32BE(partition, at);
            at = out.writeInt32BE(batch.length, at);
            at += batch.copy(out, at);
          }
        }
        return encoderOf(out, at);
      },
    };
  };
}

/** A partition's records, written one after the other into `alloc(size)` of their exact size. */
function recordsOf(messages: ProduceMessage[], alloc: (size: number) => Buffer): Buffer {
  const keyLengths = new Int32Array(messages.length);
  const valueLengths = new Int32Array(messages.length);
  let size = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ProduceMessage;
    const keyLength = bytesLength(message.key);
    const valueLength = bytesLength(message.value);
    keyLengths[i] = keyLength;
    valueLengths[i] = valueLength;
    size += recordSize(i, 0, keyLength, valueLength);
  }
  const buf = alloc(size);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ProduceMessage;
    at = putRecord(buf, at, i, 0, message.key, keyLengths[i] as number, message.value, valueLengths[i] as number);
  }
  return buf;
}

function writeInt64(buf: Buffer, at: number, value: Long): void {
  buf.writeInt32BE(value.getHighBits(), at);
  buf.writeInt32BE(value.getLowBits(), at + 4);
}
