import { Type, type TSchema, type Static } from '@sinclair/typebox';
import { ConditionRef } from './condition.js';
import { FieldPath, LogLevel, Pattern, Scalar } from './fields.js';

const STEP_LIMIT = 256;

/** Every step may be guarded by `if`; it then runs only on records the condition holds for. */
const guarded = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Object({ ...properties, if: Type.Optional(ConditionRef) }, { additionalProperties: false });

/** Where a parse step writes: the record root (default) or under a field. */
const target = Type.Optional(FieldPath);

// ---- parse --------------------------------------------------------------------------

export const JsonParse = guarded({
  field: Type.Optional(FieldPath),
  target,
  /** A line that is JSON but not an object (`42`, `"x"`, `[1]`): put it under `target` (default `json`), or fail. */
  nonObject: Type.Optional(Type.Union([Type.Literal('wrap'), Type.Literal('fail')])),
});
export const RegexParse = guarded({ field: Type.Optional(FieldPath), pattern: Pattern, target });
export const LogfmtParse = guarded({ field: Type.Optional(FieldPath), target });
export const KeyValueParse = guarded({
  field: Type.Optional(FieldPath),
  target,
  pairSeparator: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })),
  valueSeparator: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })),
});
export const TimestampParse = guarded({
  field: FieldPath,
  /** `rfc3339`, `epoch_s`, `epoch_ms`, `epoch_us`, `epoch_ns`, or a strftime-like format (`%Y-%m-%d %H:%M:%S%.f`). */
  format: Type.String({ minLength: 1, maxLength: 128 }),
  /** IANA zone for formats without an offset; default UTC. */
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  target: Type.Optional(FieldPath),
});
export const LevelParse = guarded({
  field: FieldPath,
  /** Extra spellings per ECS level, e.g. `{ warn: [W, WARNING] }`; common ones are built in. */
  aliases: Type.Optional(Type.Record(LogLevel, Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 }))),
});
export const ParseStep = Type.Object(
  {
    json: Type.Optional(JsonParse),
    regex: Type.Optional(RegexParse),
    logfmt: Type.Optional(LogfmtParse),
    keyValue: Type.Optional(KeyValueParse),
    timestamp: Type.Optional(TimestampParse),
    level: Type.Optional(LevelParse),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'exactly one parse step' },
);
export type ParseStep = Static<typeof ParseStep>;

// ---- filter -------------------------------------------------------------------------

export const SampleFilter = guarded({
  /** Keep this fraction of records (0 < rate ≤ 1). */
  rate: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
  /** Records with the same value here are kept or dropped together (e.g. a trace id). */
  key: Type.Optional(FieldPath),
});
export const FilterStep = Type.Object(
  { drop: Type.Optional(ConditionRef), keep: Type.Optional(ConditionRef), sample: Type.Optional(SampleFilter) },
  { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'exactly one filter step' },
);
export type FilterStep = Static<typeof FilterStep>;

// ---- transform ----------------------------------------------------------------------

const fields = Type.Array(FieldPath, { minItems: 1, maxItems: 256 });

export const RedactTransform = guarded({
  fields: Type.Optional(fields),
  /** Built-in detectors or RE2 patterns whose matches are masked wherever they occur in `in` fields. */
  patterns: Type.Optional(
    Type.Array(Type.Union([Type.Literal('card'), Type.Literal('email'), Type.Literal('ipv4'), Type.Object({ regex: Pattern }, { additionalProperties: false })]), {
      minItems: 1,
      maxItems: 32,
    }),
  ),
  /** Fields the patterns look in; default `message`. */
  in: Type.Optional(fields),
  replacement: Type.Optional(Type.String({ maxLength: 64 })),
  /** Keep this many trailing characters visible (`****1234`). */
  keepLast: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
});
export const TransformStep = Type.Object(
  {
    /** `value` may use `{{ field.path }}` templates. */
    set: Type.Optional(guarded({ field: FieldPath, value: Scalar })),
    rename: Type.Optional(guarded({ from: FieldPath, to: FieldPath })),
    copy: Type.Optional(guarded({ from: FieldPath, to: FieldPath })),
    remove: Type.Optional(guarded({ fields })),
    redact: Type.Optional(RedactTransform),
    lowercase: Type.Optional(guarded({ fields })),
    uppercase: Type.Optional(guarded({ fields })),
    convert: Type.Optional(
      guarded({ field: FieldPath, type: Type.Union(['integer', 'float', 'boolean', 'string'].map((t) => Type.Literal(t))) }),
    ),
    /** Move fields under a namespace: `{ fields: [user, cart], under: app }` → `app.user`, `app.cart`. */
    nest: Type.Optional(guarded({ fields, under: FieldPath })),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'exactly one transform step' },
);
export type TransformStep = Static<typeof TransformStep>;

export const ParseSteps = Type.Array(ParseStep, { maxItems: STEP_LIMIT });
export const FilterSteps = Type.Array(FilterStep, { maxItems: STEP_LIMIT });
export const TransformSteps = Type.Array(TransformStep, { maxItems: STEP_LIMIT });
