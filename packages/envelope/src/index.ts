export { ENVELOPE_LIMITS, fileEnvelopeId, fileEnvelopeIdPrefix, fileEnvelopeIds, newSdkEnvelopeId } from './envelope.js';
export type { Envelope, EnvelopeSource, FileSource, KubernetesMetadata, SdkSource, Stream } from './envelope.js';
export { decodeEnvelope, encodeEnvelope, envelopeMessage } from './codec.js';
export type { DecodeFailure, DecodeOptions, DecodeResult, EnvelopeRegistry } from './codec.js';
export { MAX_FIELD_ERRORS, formatFieldErrors, parseEnvelope } from './validate.js';
export type { FieldError, ParseEnvelopeOptions, ParseEnvelopeResult } from './validate.js';
export { ENVELOPE_AVRO_SCHEMA } from './avro.js';
