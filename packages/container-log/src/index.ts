export type { Stream } from './types.js';
export { parsePodLogPath, parseContainerLinkName } from './path.js';
export type { ContainerLogFile, PathResult } from './path.js';
export { detectFormat, isRfc3339, parseLine, parseCriLine, parseDockerLine, streamAt } from './line.js';
export type { LogChunk, LogFormat, ChunkResult } from './line.js';
export { LineAssembler } from './assembler.js';
export type { AssembledLine, AssemblerOptions } from './assembler.js';
export { decodeLogBytes, utf8Boundary, utf8SequenceLength } from './utf8.js';
