import { Type, type Static } from '@sinclair/typebox';
import { FieldPath, LogLevel, Pattern, Scalar } from './fields.js';

/**
 * A condition: one comparison on a field, or `and` / `or` / `not` of conditions.
 *
 *   { field: level, in: [debug, trace] }
 *   { field: http.status, gte: 500 }
 *   { field: log.level, atLeast: warn }
 *   { and: [ { field: app, equals: web }, { not: { field: user, exists: true } } ] }
 *
 * One object type with every operator optional keeps schema errors precise (an unknown
 * operator is reported as exactly that); the compiler checks that exactly one is given.
 */
export const Condition = Type.Recursive(
  (Self) =>
    Type.Object(
      {
        field: Type.Optional(FieldPath),
        equals: Type.Optional(Scalar),
        in: Type.Optional(Type.Array(Scalar, { minItems: 1, maxItems: 1000 })),
        exists: Type.Optional(Type.Boolean()),
        matches: Type.Optional(Pattern),
        gt: Type.Optional(Type.Number()),
        gte: Type.Optional(Type.Number()),
        lt: Type.Optional(Type.Number()),
        lte: Type.Optional(Type.Number()),
        atLeast: Type.Optional(LogLevel),
        and: Type.Optional(Type.Array(Self, { minItems: 1, maxItems: 64 })),
        or: Type.Optional(Type.Array(Self, { minItems: 1, maxItems: 64 })),
        not: Type.Optional(Self),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  { $id: 'Condition' },
);
export type Condition = Static<typeof Condition>;

/** Where a condition is used: a reference, so the schema holds one copy of it (ajv refuses duplicate ids). */
export const ConditionRef = Type.Ref(Condition);

/** The comparison operators, in the order the compiler reports them. */
export const COMPARISONS = ['equals', 'in', 'exists', 'matches', 'gt', 'gte', 'lt', 'lte', 'atLeast'] as const;
export const COMBINATORS = ['and', 'or', 'not'] as const;
