import { fail, ok, type Result } from './result.js';

/** A validated tenant name: a Kubernetes namespace name (DNS-1123 label). */
export type TenantName = string & { readonly __brand: 'TenantName' };

/** Every name Tributary derives from a tenant; built only by {@link tenantNames}. */
export interface TenantNames {
  readonly tenant: TenantName;
  /** Raw records from forwarders and the SDK. */
  readonly logsTopic: string;
  /** Records that failed the tenant's pipeline, byte for byte, with headers saying why. */
  readonly deadLetterTopic: string;
  /**
   * Every index the tenant writes starts with this. Tenant names can't contain a dot, so
   * no tenant's prefix is a prefix of another's (`a-` would contain tenant `a-b`'s indices).
   */
  readonly indexPrefix: string;
  /** The index a tenant without a pipeline writes to. */
  readonly defaultIndex: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LENGTH = 63;

/** Checks that `input` is a tenant name; errors carry `path` so callers can point at the field. */
export function parseTenant(input: unknown, path = 'tenant'): Result<TenantName> {
  if (typeof input !== 'string') return fail({ path, reason: `must be a string, got ${describe(input)}` });
  if (input.length === 0) return fail({ path, reason: 'must not be empty' });
  if (input.length > MAX_LENGTH) {
    return fail({ path, reason: `must be at most ${MAX_LENGTH} characters (a Kubernetes namespace name), got ${input.length}` });
  }
  if (!DNS1123_LABEL.test(input)) {
    return fail({
      path,
      reason: `"${input}" is not a Kubernetes namespace name: use lowercase letters, digits and '-', starting and ending with a letter or digit`,
    });
  }
  return ok(input as TenantName);
}

/** Thrown by {@link tenantNames} when code (not tenant input) passes an invalid name. */
export class InvalidTenantNameError extends Error {
  readonly code = 'TRIBUTARY_INVALID_TENANT';
  constructor(readonly path: string, readonly reason: string) {
    super(`invalid tenant name at ${path}: ${reason}`);
    this.name = 'InvalidTenantNameError';
  }
}

/** The one function that names a tenant's topics and indices. Throws on an invalid name. */
export function tenantNames(tenant: string): TenantNames {
  const parsed = parseTenant(tenant);
  if (!parsed.ok) {
    const [first] = parsed.errors;
    throw new InvalidTenantNameError(first?.path ?? 'tenant', first?.reason ?? 'invalid');
  }
  const name = parsed.value;
  return Object.freeze({
    tenant: name,
    logsTopic: `logs.${name}`,
    deadLetterTopic: `dlq.${name}`,
    indexPrefix: `logs.${name}.`,
    defaultIndex: `logs.${name}.default`,
  });
}

/** Whether `index` lies inside the tenant's own index prefix. */
export function isTenantIndex(tenant: string, index: string): boolean {
  const { indexPrefix } = tenantNames(tenant);
  return index.length > indexPrefix.length && index.startsWith(indexPrefix);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
