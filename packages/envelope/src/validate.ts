import { ENVELOPE_LIMITS, type Envelope, type EnvelopeSource, type KubernetesMetadata, type Stream } from './envelope.js';

/** A problem with one field of a record: where it is (`source.kind`) and why. Same shape as `@tributary/tenant`'s. */
export interface FieldError {
  readonly path: string;
  readonly reason: string;
}

/** An envelope, or every field problem found (at most {@link MAX_FIELD_ERRORS}, then `more` counts the rest). */
export type ParseEnvelopeResult =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly errors: readonly FieldError[]; readonly more: number };

export interface ParseEnvelopeOptions {
  /** Largest `message` accepted, in UTF-8 bytes. Default 1 MiB. */
  readonly maxMessageBytes?: number;
}

/** A record with thousands of bad labels is reported, not catalogued. */
export const MAX_FIELD_ERRORS = 20;

// RFC 3339 §5.6 date-time (T and Z in either case); ranges are checked after the match.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks that a parsed JSON (or registry-decoded) value is an envelope and builds a fresh one
 * from the contract's fields only. Lenient where other producers differ harmlessly (unknown
 * fields ignored, `kubernetes` / `labels` may be absent or null, `time` may lack fractions),
 * strict where downstream relies on it (`id`, `time`, `stream`, `message`, `source`).
 */
export function parseEnvelope(value: unknown, options: ParseEnvelopeOptions = {}): ParseEnvelopeResult {
  const errors = new Collector();
  if (!isObject(value)) {
    errors.add('', `the record must be a JSON object, got ${describe(value)}`);
    return errors.result();
  }
  const maxMessageBytes = options.maxMessageBytes ?? ENVELOPE_LIMITS.defaultMaxMessageBytes;
  const id = checkId(value['id'], errors);
  const time = checkTime(value['time'], errors);
  const stream = checkStream(value['stream'], errors);
  const message = checkMessage(value['message'], maxMessageBytes, errors);
  const source = checkSource(value['source'], errors);
  const kubernetes = checkKubernetes(value['kubernetes'], errors);
  if (errors.count > 0 || id === undefined || time === undefined || stream === undefined || message === undefined || source === undefined) {
    return errors.result();
  }
  const envelope: Envelope = kubernetes === undefined ? { id, time, stream, message, source } : { id, time, stream, message, source, kubernetes };
  return { ok: true, envelope };
}

/**
 * `"id is required; message: must be a string, got number; source.kind: …"`, the form decode
 * failures report: a reason that reads as a predicate (`is …`) follows its path without a colon.
 */
export function formatFieldErrors(errors: readonly FieldError[], more = 0): string {
  const listed = errors.map((e) => (e.path === '' ? e.reason : e.reason.startsWith('is ') ? `${e.path} ${e.reason}` : `${e.path}: ${e.reason}`)).join('; ');
  return more > 0 ? `${listed}; and ${more} more` : listed;
}

class Collector {
  readonly errors: FieldError[] = [];
  count = 0;
  add(path: string, reason: string): void {
    this.count++;
    if (this.errors.length < MAX_FIELD_ERRORS) this.errors.push({ path, reason });
  }
  result(): ParseEnvelopeResult {
    return { ok: false, errors: this.errors, more: this.count - this.errors.length };
  }
}

function checkId(id: unknown, errors: Collector): string | undefined {
  if (!isString(id, 'id', errors)) return undefined;
  if (id.length === 0) return void errors.add('id', 'must not be empty');
  if (id.length > ENVELOPE_LIMITS.idMaxLength) {
    return void errors.add('id', `must be at most ${ENVELOPE_LIMITS.idMaxLength} characters, got ${id.length}`);
  }
  // Up to 170 UTF-16 units can't pass 512 UTF-8 bytes; only longer ids need counting.
  if (id.length * 3 > ENVELOPE_LIMITS.idMaxBytes) {
    const bytes = Buffer.byteLength(id, 'utf8');
    if (bytes > ENVELOPE_LIMITS.idMaxBytes) {
      return void errors.add('id', `must be at most ${ENVELOPE_LIMITS.idMaxBytes} bytes in UTF-8 (an Elasticsearch _id), got ${bytes}`);
    }
  }
  return id;
}

function checkTime(time: unknown, errors: Collector): string | undefined {
  if (!isString(time, 'time', errors)) return undefined;
  const problem = rfc3339Problem(time);
  if (problem !== undefined) return void errors.add('time', `${problem}, got ${quote(time)}`);
  return time;
}

/** Why `time` is not an RFC 3339 timestamp Elasticsearch can index, or undefined when it is. */
function rfc3339Problem(time: string): string | undefined {
  const m = RFC3339.exec(time);
  if (m === null) return 'must be an RFC 3339 timestamp with a zone, like 2024-05-01T12:00:00.123456789Z';
  const [, year, month, day, hour, minute, second, fraction, offsetHour, offsetMinute] = m;
  if (fraction !== undefined && fraction.length > ENVELOPE_LIMITS.timeMaxFractionDigits) {
    return `must have at most ${ENVELOPE_LIMITS.timeMaxFractionDigits} fraction digits (nanoseconds)`;
  }
  const y = Number(year);
  const mo = Number(month);
  if (mo < 1 || mo > 12) return `month ${month} is out of range`;
  if (Number(day) < 1 || Number(day) > daysInMonth(y, mo)) return `day ${day} is out of range for ${year}-${month}`;
  if (Number(hour) > 23 || Number(minute) > 59) return `time of day ${hour}:${minute} is out of range`;
  // RFC 3339 allows a leap second (60); Elasticsearch's date parser refuses it.
  if (Number(second) > 59) return `second ${second} is out of range (leap seconds are not accepted)`;
  if (offsetHour !== undefined && (Number(offsetHour) > 23 || Number(offsetMinute) > 59)) return `zone offset ${offsetHour}:${offsetMinute} is out of range`;
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function checkStream(stream: unknown, errors: Collector): Stream | undefined {
  if (stream === 'stdout' || stream === 'stderr') return stream;
  if (stream === undefined) return void errors.add('stream', 'is required (stdout or stderr)');
  return void errors.add('stream', `must be stdout or stderr, got ${typeof stream === 'string' ? quote(stream) : describe(stream)}`);
}

function checkMessage(message: unknown, maxBytes: number, errors: Collector): string | undefined {
  if (!isString(message, 'message', errors)) return undefined;
  // A UTF-16 unit is at most 3 UTF-8 bytes: most messages need no counting.
  if (message.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(message, 'utf8');
    if (bytes > maxBytes) return void errors.add('message', `is ${bytes} bytes; the limit is ${maxBytes}`);
  }
  return message;
}

function checkSource(source: unknown, errors: Collector): EnvelopeSource | undefined {
  if (source === undefined) return void errors.add('source', 'is required');
  if (!isObject(source)) return void errors.add('source', `must be an object, got ${describe(source)}`);
  const kind = source['kind'];
  if (kind === 'file') {
    const node = nonEmpty(source['node'], 'source.node', errors);
    const path = nonEmpty(source['path'], 'source.path', errors);
    const offset = source['offset'];
    let validOffset: number | undefined;
    if (offset === undefined) errors.add('source.offset', 'is required');
    else if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      errors.add('source.offset', `must be a non-negative integer, got ${typeof offset === 'number' ? offset : describe(offset)}`);
    } else validOffset = offset;
    if (node === undefined || path === undefined || validOffset === undefined) return undefined;
    return { kind: 'file', node, path, offset: validOffset };
  }
  if (kind === 'sdk') {
    const app = nonEmpty(source['app'], 'source.app', errors);
    const host = nonEmpty(source['host'], 'source.host', errors);
    if (app === undefined || host === undefined) return undefined;
    return { kind: 'sdk', app, host };
  }
  return void errors.add('source.kind', `must be file or sdk, got ${typeof kind === 'string' ? quote(kind) : describe(kind)}`);
}

function checkKubernetes(kubernetes: unknown, errors: Collector): KubernetesMetadata | undefined {
  if (kubernetes === undefined || kubernetes === null) return undefined;
  if (!isObject(kubernetes)) return void errors.add('kubernetes', `must be an object, got ${describe(kubernetes)}`);
  const namespace = nonEmpty(kubernetes['namespace'], 'kubernetes.namespace', errors);
  const pod = nonEmpty(kubernetes['pod'], 'kubernetes.pod', errors);
  const pod_uid = nonEmpty(kubernetes['pod_uid'], 'kubernetes.pod_uid', errors);
  const container = nonEmpty(kubernetes['container'], 'kubernetes.container', errors);
  const labels = checkLabels(kubernetes['labels'], errors);
  if (namespace === undefined || pod === undefined || pod_uid === undefined || container === undefined || labels === null) return undefined;
  return labels === undefined ? { namespace, pod, pod_uid, container } : { namespace, pod, pod_uid, container, labels };
}

/** The labels (copied), undefined when absent, null when invalid. */
function checkLabels(labels: unknown, errors: Collector): Record<string, string> | undefined | null {
  if (labels === undefined || labels === null) return undefined;
  if (!isObject(labels)) {
    errors.add('kubernetes.labels', `must be an object of strings, got ${describe(labels)}`);
    return null;
  }
  let valid = true;
  const entries = Object.entries(labels);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') {
      valid = false;
      errors.add(`kubernetes.labels${PLAIN_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, `must be a string, got ${describe(value)}`);
    }
  }
  // fromEntries defines own properties, so a "__proto__" label stays a label.
  return valid ? (Object.fromEntries(entries) as Record<string, string>) : null;
}

function nonEmpty(value: unknown, path: string, errors: Collector): string | undefined {
  if (!isString(value, path, errors)) return undefined;
  if (value.length === 0) return void errors.add(path, 'must not be empty');
  return value;
}

function isString(value: unknown, path: string, errors: Collector): value is string {
  if (typeof value === 'string') return true;
  errors.add(path, value === undefined ? 'is required' : `must be a string, got ${describe(value)}`);
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** A value quoted for a reason, cut so one bad field can't make the reason huge. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
