export { retry, retryDelay, PermanentError, InvalidRetryOptionsError } from './retry.js';
export type { RetryOptions, Bail } from './retry.js';
