import kafkajs, { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { KafkaOptions } from './config.js';

// kafkajs-lz4 is CommonJS with `module.exports = class`; require gives the class under every loader.
const LZ4Codec = createRequire(import.meta.url)('kafkajs-lz4') as typeof import('kafkajs-lz4').default;

// Not every kafkajs export is visible to ESM's static analysis of CommonJS; these are read off the module.
const { CompressionCodecs, CompressionTypes } = kafkajs;

// kafkajs keeps codecs in a module-level table whose LZ4 entry throws "not implemented";
// registering on import lets every client read LZ4 batches whoever produced them.
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;

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
