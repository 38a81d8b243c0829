export { createLogger, InvalidLogLevelError, LOG_LEVELS } from './logger.js';
export type { Logger, LoggerOptions, LogLevel } from './logger.js';
