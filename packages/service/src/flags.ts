import { parseTenant } from '@tributary/tenant';

/** A flag's value is wrong: the message names the flag and says what was expected. */
export class InvalidFlagError extends Error {
  constructor(flag: string, value: string, expected: string) {
    super(`--${flag} ${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'InvalidFlagError';
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, kb: 1000, mib: 1024 ** 2, mb: 1000 ** 2, gib: 1024 ** 3, gb: 1000 ** 3 };

/** `5MiB`, `512KiB`, `1048576`: a size in bytes. */
export function parseSize(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidFlagError(flag, value, 'a size such as 5MiB, 512KiB or 1048576 (bytes)');
  return bytes;
}

/** A whole number ≥ `min`. */
export function parseCount(flag: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidFlagError(flag, value, `a whole number ≥ ${min}`);
  return n;
}

/** A port number; 0 picks a free one. */
export function parsePort(flag: string, value: string): number {
  const port = parseCount(flag, value, 0) as number;
  if (port > 65535) throw new InvalidFlagError(flag, value, 'a port number (0 picks a free one)');
  return port;
}

/** `payments, checkout`: tenant names separated by commas, each a valid one. */
export function parseTenantList(flag: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const tenants = value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  for (const tenant of tenants) {
    const parsed = parseTenant(tenant);
    if (!parsed.ok) throw new InvalidFlagError(flag, value, `tenant names separated by commas (${tenant}: ${parsed.errors.map((e) => e.reason).join('; ')})`);
  }
  if (tenants.length === 0) throw new InvalidFlagError(flag, value, 'at least one tenant name');
  return tenants;
}

/**
 * `{ [key]: value }`, or nothing when the flag was not given: spread into options, an
 * unset flag leaves the option's default (with `exactOptionalPropertyTypes`, an explicit
 * `undefined` would not).
 */
export function ifSet<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
