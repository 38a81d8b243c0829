const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Whether `value` is an RFC 3339 date-time with its offset (`2026-12-03T10:00:00Z`,
 * `…10:00:00.5+01:00`) that names a real instant: the times the platform's records and
 * API filters carry. Date.parse alone takes far more than that, and guesses a zone.
 */
export function isRfc3339Time(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}
