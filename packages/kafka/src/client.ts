import kafkajs, { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import lz4 from 'lz4-napi';
import type { Logger } from 'pino';
import type { KafkaOptions } from './config.js';


// Not every kafkajs export is visible to ESM's static analysis of CommonJS; these are read off the module.
const { CompressionCodecs, CompressionTypes } = kafkajs;

// kafkajs keeps codecs in a module-level table whose LZ4 entry throws "not implemented";
// registering on import lets every client read LZ4 batches whoever produced them.
// lz4-napi (Rust lz4_flex, on libuv's thread pool) rather than kafkajs-lz4: that one's
// `lz4` 0.6 decoder zero-fills a 4 MiB block buffer per batch, which measured 1.2 GiB of
// RSS and a quarter of the throughput on 100 000 records (docs/processor.md).
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => lz4.compressFrame(encoder.buffer),
  decompress: (buffer: Buffer) => lz4.decompressFrame(buffer),
});

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
