export { PositionStore, PositionFileError } from './positions.js';
export type { FilePosition } from './positions.js';
export { FileReader } from './file-reader.js';
export type { FileIdentity, FileLine, ReadResult } from './file-reader.js';
export { lineRecord, fileIdentityKey } from './envelope.js';
export type { SourceFile } from './envelope.js';
export { discoverLogFiles } from './discovery.js';
export type { DiscoveredFile, LogFilter } from './discovery.js';
