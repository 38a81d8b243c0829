export { createProducer, LogProducer, ProducerOverflowError, ProducerRecordTooLargeError } from './producer.js';
export type { LogRecord, ProducerOptions } from './producer.js';
