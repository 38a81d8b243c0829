export { parseTenant, tenantNames, isTenantIndex, InvalidTenantNameError } from './tenant.js';
export type { TenantName, TenantNames } from './tenant.js';
export { ok, fail } from './result.js';
export type { Result, FieldError } from './result.js';
