export { registerConsole } from './plugin.js';
export type { ConsoleOptions } from './plugin.js';
export { ConsoleApi } from './api.js';
export type { ApiCall, ApiRequest, ApiResponse, Principal } from './api.js';
