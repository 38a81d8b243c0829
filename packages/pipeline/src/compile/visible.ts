import type { Fields } from './types.js';

/**
 * The record as it will be indexed: removed fields are kept as undefined keys (see
 * FieldAccess.remove), which JSON drops. Tests compare this view.
 */
export function visible(record: Fields): Fields {
  return JSON.parse(JSON.stringify(record)) as Fields;
}
