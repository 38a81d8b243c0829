// Before kafkajs loads: the lean encodings replace modules kafkajs takes when it loads them
// (the record encoder first: the produce request, which produce-path loads, takes it).
import './record-encoding.js';
import './produce-path.js';
import kafkajs, { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4-napi';
import { uncompress } from 'snappyjs';
import type { Logger } from 'pino';
import type { KafkaOptions } from './config.js';


// Not every kafkajs export is visible to ESM's static analysis of CommonJS; these are read off the module.
const { CompressionCodecs, CompressionTypes } = kafkajs;
/** kafkajs's, re-exported: a module importing kafkajs itself before this package would load it before the lean produce path is installed. */
export const { Partitioners } = kafkajs;
export { CompressionTypes };

// kafkajs keeps codecs in a module-level table whose LZ4, Snappy and ZSTD entries throw
// "not implemented"; registering on import lets every client read batches whoever produced
// them. That is not only a convenience: a tenant's app may produce with any codec, and a
// batch a consumer can't decompress crashes it without restart — every tenant of that
// processor would stop. Tributary produces LZ4 (docs/compression.md); the others are read only.
// lz4-napi (Rust lz4_flex, on libuv's thread pool) rather than kafkajs-lz4: that one's
// `lz4` 0.6 decoder zero-fills a 4 MiB block buffer per batch, which measured 1.2 GiB of
// RSS and a quarter of the throughput on 100 000 records (docs/processor.md).
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => lz4.compressFrame(encoder.buffer),
  decompress: (buffer: Buffer) => lz4.decompressFrame(buffer),
});
// Pure JavaScript decoders: no native build to fail (@kafkajs/zstd doesn't build here).
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: readOnly('ZSTD'),
  decompress: async (buffer: Buffer) => asBuffer(zstdDecompress(buffer)),
});
CompressionCodecs[CompressionTypes.Snappy] = () => ({
  compress: readOnly('Snappy'),
  decompress: async (buffer: Buffer) => snappyDecompress(buffer),
});

function readOnly(codec: string): () => Promise<never> {
  return () => Promise.reject(new Error(`Tributary reads ${codec} batches but produces LZ4`));
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// The Java client (and librdkafka, for compatibility) frames Snappy the way snappy-java's
// stream does: a 16-byte header starting with 0x82 "SNAPPY" 0x00, then blocks each preceded
// by its 4-byte length. Raw Snappy otherwise.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

/** Snappy, raw or snappy-java framed. */
export function snappyDecompress(buffer: Buffer): Buffer {
  if (buffer.length < 16 || !buffer.subarray(0, 8).equals(XERIAL_MAGIC)) return asBuffer(uncompress(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)));
  const blocks: Buffer[] = [];
  for (let at = 16; at < buffer.length; ) {
    if (at + 4 > buffer.length) throw new Error(`snappy-java framing: a block length cut short at byte ${at}`);
    const length = buffer.readUInt32BE(at);
    at += 4;
    if (at + length > buffer.length) throw new Error(`snappy-java framing: a block of ${length} bytes at byte ${at} runs past the end (${buffer.length})`);
    const block = buffer.subarray(at, at + length);
    blocks.push(asBuffer(uncompress(new Uint8Array(block.buffer, block.byteOffset, block.byteLength))));
    at += length;
  }
  return Buffer.concat(blocks);
}

const toPino: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Routes kafkajs's own logging into our pino logger, one child per kafkajs namespace. */
function pinoLogCreator(logger: Logger): logCreator {
  return () => (entry: LogEntry) => {
    const { message, ...fields } = entry.log;
    const method = toPino[entry.level] ?? 'info';
    logger[method]({ kafkajs: entry.namespace, ...fields }, message);
  };
}

/** Builds a kafkajs client with Tributary's defaults. */
export function createKafka(options: KafkaOptions, logger: Logger): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: options.requestTimeout ?? 30000,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ library: 'kafkajs' })),
  });
}
