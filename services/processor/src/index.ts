export { Processor } from './processor.js';
export type { ProcessorOptions } from './processor.js';
export { RecordHandler } from './record-handler.js';
export type { Handled, SourceRecord } from './record-handler.js';
export { processBatch } from './partition-batch.js';
export { runProcessor } from './main.js';
