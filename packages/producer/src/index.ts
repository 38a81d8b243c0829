export { createProducer, LogProducer, ProducerOverflowError } from './producer.js';
export type { LogRecord, ProducerOptions } from './producer.js';
