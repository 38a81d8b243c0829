import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { ENVELOPE_LIMITS, type Envelope, type EnvelopeSource, type KubernetesMetadata } from './envelope.js';
import { formatFieldErrors, parseEnvelope, type FieldError } from './validate.js';
import { firstInvalidUtf8Byte } from './internal/utf8.js';
import { errorText, isRegistryError, registryFault } from './internal/registry-errors.js';

/** What the decoder needs of a schema-registry client (`@kafkajs/confluent-schema-registry`'s `SchemaRegistry`). */
export type EnvelopeRegistry = Pick<SchemaRegistry, 'getSchema' | 'decode'>;

export interface DecodeOptions {
  /** Decodes schema-framed records (0x00 + 4-byte schema id); without it they fail to decode. */
  readonly registry?: EnvelopeRegistry;
  /** Largest `message` accepted, in UTF-8 bytes. Default 1 MiB. */
  readonly maxMessageBytes?: number;
}

/** Why a record is not an envelope. `retriable` records should be retried later, not dead-lettered. */
export interface DecodeFailure {
  readonly ok: false;
  readonly class: 'decode';
  readonly reason: string;
  /** Set (true) when the schema registry, not the record, is at fault: unreachable, failing, busy. */
  readonly retriable?: boolean;
  /** Every field problem, when the record parsed but is not an envelope. */
  readonly errors?: readonly FieldError[];
  /** The schema id of a schema-framed record. */
  readonly schemaId?: number;
}

export type DecodeResult = { readonly ok: true; readonly envelope: Envelope; readonly framing: 'json' | 'registry' } | DecodeFailure;

// One decoder for every call: with `fatal`, decode() keeps no state between calls.
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const MAGIC_BYTE = 0x00;
const FRAME_HEADER_BYTES = 5;

/** The envelope as the value of a `logs.<tenant>` record: JSON, UTF-8, the contract's fields only. */
export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(contractFields(envelope)), 'utf8');
}

/**
 * Decodes a `logs.<tenant>` record value. The promise never rejects, whatever the bytes:
 * 0x00 + schema id is Confluent wire format (decoded with `options.registry`), anything else
 * UTF-8 JSON. Throws (synchronously) only for invalid options, which is a bug in the caller.
 */
export function decodeEnvelope(bytes: Buffer, options: DecodeOptions = {}): Promise<DecodeResult> {
  const maxMessageBytes = options.maxMessageBytes ?? ENVELOPE_LIMITS.defaultMaxMessageBytes;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new TypeError(`decodeEnvelope: maxMessageBytes must be a positive integer, got ${String(options.maxMessageBytes)}`);
  }
  try {
    if (!(bytes instanceof Uint8Array)) return Promise.resolve(failure(`the record has no value (${bytes === null ? 'null' : typeof bytes})`));
    if (bytes.length === 0) return Promise.resolve(failure('the record value is empty'));
    if (bytes[0] === MAGIC_BYTE) return decodeFramed(bytes, options.registry, maxMessageBytes);
    return Promise.resolve(decodeJson(bytes, maxMessageBytes));
  } catch (error) {
    // Not reachable by any input we know of; the contract is that decoding never throws.
    return Promise.resolve(failure(`unexpected decoder error: ${errorText(error)}`));
  }
}

function decodeJson(bytes: Uint8Array, maxMessageBytes: number): DecodeResult {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8Byte(bytes);
    return failure(at < 0 ? 'not valid UTF-8' : `not valid UTF-8 at byte ${at} (0x${(bytes[at] as number).toString(16).padStart(2, '0')})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return failure(`not valid JSON: ${errorText(error)}`);
  }
  const parsed = parseEnvelope(value, { maxMessageBytes });
  if (parsed.ok) return { ok: true, envelope: parsed.envelope, framing: 'json' };
  return { ok: false, class: 'decode', reason: `invalid envelope: ${formatFieldErrors(parsed.errors, parsed.more)}`, errors: parsed.errors };
}

async function decodeFramed(bytes: Uint8Array, registry: EnvelopeRegistry | undefined, maxMessageBytes: number): Promise<DecodeResult> {
  if (bytes.length < FRAME_HEADER_BYTES) {
    return failure(`starts with 0x00, the schema-registry framing, but is ${bytes.length} byte(s): too short to hold a schema id`);
  }
  // Signed, as the Confluent serializers and the registry client read it.
  const schemaId = ((bytes[1] as number) << 24) | ((bytes[2] as number) << 16) | ((bytes[3] as number) << 8) | (bytes[4] as number);
  const framed = (reason: string, extra: Partial<DecodeFailure> = {}): DecodeFailure => ({ ok: false, class: 'decode', reason, schemaId, ...extra });
  if (schemaId < 0) return framed(`schema-registry framed with schema id ${schemaId}, which no registry assigns`);
  if (registry === undefined) return framed(`schema-registry framed (schema id ${schemaId}) but no schema registry is configured`);
  try {
    // Fetch first (cached after the first record), so a registry fault is never mistaken for a bad payload.
    await registry.getSchema(schemaId);
  } catch (error) {
    const fault = registryFault(error, schemaId);
    return framed(fault.reason, fault.retriable ? { retriable: true } : {});
  }
  let value: unknown;
  try {
    value = await registry.decode(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    if (isRegistryError(error)) {
      const fault = registryFault(error, schemaId);
      return framed(fault.reason, fault.retriable ? { retriable: true } : {});
    }
    return framed(`schema id ${schemaId}: the payload does not decode with that schema: ${errorText(error)}`);
  }
  const parsed = parseEnvelope(value, { maxMessageBytes });
  if (parsed.ok) return { ok: true, envelope: parsed.envelope, framing: 'registry' };
  return framed(`schema id ${schemaId}: invalid envelope: ${formatFieldErrors(parsed.errors, parsed.more)}`, { errors: parsed.errors });
}

function failure(reason: string): DecodeFailure {
  return { ok: false, class: 'decode', reason };
}

/** A fresh object with the contract's fields in contract order, whatever else the value carries. */
function contractFields(envelope: Envelope): Envelope {
  const { id, time, stream, message, source, kubernetes } = envelope;
  const ownSource: EnvelopeSource =
    source.kind === 'file' ? { kind: 'file', node: source.node, path: source.path, offset: source.offset } : { kind: 'sdk', app: source.app, host: source.host };
  if (kubernetes === undefined) return { id, time, stream, message, source: ownSource };
  const { namespace, pod, pod_uid, container, labels } = kubernetes;
  const ownKubernetes: KubernetesMetadata = labels === undefined ? { namespace, pod, pod_uid, container } : { namespace, pod, pod_uid, container, labels };
  return { id, time, stream, message, source: ownSource, kubernetes: ownKubernetes };
}

/**
 * The log line of a record value, for people reading a dead letter: the `message` of a JSON
 * envelope (what the forwarder and the SDK write), or undefined for anything else (a
 * registry-framed envelope, a record that isn't one). No validation: a dead letter's value
 * may be broken in every other way.
 */
export function envelopeMessage(value: string): string | undefined {
  if (!value.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(value) as { message?: unknown };
    return typeof parsed === 'object' && parsed !== null && typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
