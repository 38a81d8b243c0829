export { createProducer, LogProducer, ProducerOverflowError, ProducerRecordError, ProducerRecordTooLargeError } from './producer.js';
export type { LogRecord, ProducerOptions } from './producer.js';
