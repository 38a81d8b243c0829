/**
 * How a field value reads as text (in templates, as a sampling key): strings as they are,
 * absent and null as empty, objects as JSON. Never throws: String() on a record object can
 * hit a non-function `toString`, and JSON.stringify can overflow on very deep objects.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}
