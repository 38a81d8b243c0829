import { Condition } from './condition.js';
import { LoggingPipeline } from './manifest.js';

export * from './manifest.js';
export { Condition, COMPARISONS, COMBINATORS } from './condition.js';
export { FieldPath, LogLevel, Scalar } from './fields.js';
export { ParseStep, FilterStep, TransformStep } from './steps.js';
export { notificationTargets } from './notify.js';
export type { NotificationTarget } from './notify.js';

/** The whole manifest schema as one JSON Schema document (for editors, docs and the CRD). */
export function manifestJsonSchema(): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...LoggingPipeline, definitions: { Condition } }));
}
