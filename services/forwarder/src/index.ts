export { PositionStore, PositionFileError } from './positions.js';
export type { FilePosition } from './positions.js';
export { FileReader } from './file-reader.js';
export type { FileIdentity, FileLine, ReadResult } from './file-reader.js';
