// Kafka's zig-zag varints (the record format's lengths and deltas), written in place.

export function zigZag(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** Bytes `value` takes as a zig-zag varint. */
export function varIntSize(value: number): number {
  let encoded = zigZag(value);
  let bytes = 1;
  while (encoded >= 0x80) {
    bytes++;
    encoded >>>= 7;
  }
  return bytes;
}

/** Writes `value` (unsigned, 32 bits) as a varint at `at`; returns the offset after it. */
export function putUVarInt(buf: Buffer, at: number, value: number): number {
  let rest = value >>> 0;
  while (rest >= 0x80) {
    buf[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buf[at++] = rest;
  return at;
}

/** Whether a delta fits the 32-bit fast path (kafkajs writes larger ones as varlongs). */
export function smallInt(value: number): boolean {
  return Number.isInteger(value) && value >= -0x3fffffff && value <= 0x3fffffff;
}

export function bytesLike(value: unknown): value is Buffer | string | null | undefined {
  return value == null || typeof value === 'string' || Buffer.isBuffer(value);
}

/** Byte length of a record key or value; -1 for null (Kafka's null bytes). */
export function bytesLength(value: Buffer | string | null | undefined): number {
  return value == null ? -1 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

export function writeBytes(buf: Buffer, at: number, value: Buffer | string | null | undefined): number {
  if (value == null) return at;
  if (typeof value === 'string') return at + buf.write(value, at, 'utf8');
  // TypedArray's set, not Buffer's copy: the same bytes without copy's argument checks, which
  // cost more than the copy itself for a record's few hundred bytes.
  buf.set(value, at);
  return at + value.length;
}

/**
 * Writes one record (Kafka record format v2, no headers) at `at`; returns the offset after
 * it. `keyLength`/`valueLength` from `bytesLength`.
 */
export function putRecord(buf: Buffer, at: number, offsetDelta: number, timestampDelta: number, key: Buffer | string | null | undefined, keyLength: number, value: Buffer | string | null | undefined, valueLength: number): number {
  const body = recordBodySize(offsetDelta, timestampDelta, keyLength, valueLength);
  at = putUVarInt(buf, at, zigZag(body));
  buf[at++] = 0; // attributes
  at = putUVarInt(buf, at, zigZag(timestampDelta));
  at = putUVarInt(buf, at, zigZag(offsetDelta));
  at = putUVarInt(buf, at, zigZag(keyLength));
  at = writeBytes(buf, at, key);
  at = putUVarInt(buf, at, zigZag(valueLength));
  at = writeBytes(buf, at, value);
  buf[at++] = 0; // no headers: varint 0
  return at;
}

export function recordBodySize(offsetDelta: number, timestampDelta: number, keyLength: number, valueLength: number): number {
  return 1 + varIntSize(timestampDelta) + varIntSize(offsetDelta) + varIntSize(keyLength) + Math.max(keyLength, 0) + varIntSize(valueLength) + Math.max(valueLength, 0) + 1;
}

/** A whole record's size, its length prefix included. */
export function recordSize(offsetDelta: number, timestampDelta: number, keyLength: number, valueLength: number): number {
  const body = recordBodySize(offsetDelta, timestampDelta, keyLength, valueLength);
  return varIntSize(body) + body;
}
