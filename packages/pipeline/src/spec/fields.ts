import { Type, type Static } from '@sinclair/typebox';

/**
 * A field of a record, as a dotted path: `message`, `log.level`, `@timestamp`,
 * `kubernetes.labels.app`. Segments can't be empty, so `a..b` is refused by the schema.
 */
export const FieldPath = Type.String({
  pattern: '^[A-Za-z0-9_@$-]+(\\.[A-Za-z0-9_@$-]+)*$',
  maxLength: 256,
  description: 'a field as a dotted path, e.g. log.level',
});
export type FieldPath = Static<typeof FieldPath>;

/** A scalar a condition compares with or a `set` writes. */
export const Scalar = Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean(), Type.Null()]);
export type Scalar = Static<typeof Scalar>;

/** A regular expression run on RE2 (linear time: no backreferences, no lookaround). */
export const Pattern = Type.String({ minLength: 1, maxLength: 4096, description: 'an RE2 regular expression' });

export const LogLevel = Type.Union(
  ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'fatal'].map((level) => Type.Literal(level)),
);
export type LogLevel = Static<typeof LogLevel>;
