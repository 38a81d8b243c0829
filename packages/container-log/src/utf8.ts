// ignoreBOM: a line that starts with U+FEFF keeps it (the decoder would drop it otherwise).
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The bytes of a log line as a string, losing nothing: valid UTF-8 as is, and each byte that
 * is not part of a valid sequence as the four characters `\xNN` (uppercase hex), as Vector's
 * and Fluent Bit's users would read it. The envelope's `message` is a JSON string, so the
 * bytes themselves can't travel; the escape keeps every one visible. (Text that already
 * contains a literal `\xNN` reads the same: accepted, and documented.)
 */
export function decodeLogBytes(bytes: Uint8Array): { text: string; invalidBytes: number } {
  try {
    return { text: strict.decode(bytes), invalidBytes: 0 };
  } catch {
    // Not valid UTF-8: escape what isn't, below.
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let text = '';
  let runStart = 0;
  let invalidBytes = 0;
  let i = 0;
  while (i < buffer.length) {
    const length = utf8SequenceLength(buffer, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += buffer.toString('utf8', runStart, i) + `\\x${(buffer[i] as number).toString(16).toUpperCase().padStart(2, '0')}`;
    invalidBytes++;
    i++;
    runStart = i;
  }
  return { text: text + buffer.toString('utf8', runStart), invalidBytes };
}

/**
 * The length of the valid UTF-8 sequence (RFC 3629) starting at `i` and ending by `end`, or 0
 * if there is none: how `decodeLogBytes` tells text from bytes to escape (the forwarder's
 * byte-level envelope writer asks the same).
 */
export function utf8SequenceLength(b: Uint8Array, i: number, end: number = b.length): number {
  const lead = b[i] as number;
  if (lead < 0x80) return 1;
  const c1 = i + 1 < end ? (b[i + 1] as number) : 0;
  if (lead >= 0xc2 && lead <= 0xdf) return (c1 & 0xc0) === 0x80 ? 2 : 0;
  const c2 = i + 2 < end ? (b[i + 2] as number) : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    return c1 >= low && c1 <= high && (c2 & 0xc0) === 0x80 ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const c3 = i + 3 < end ? (b[i + 3] as number) : 0;
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    return c1 >= low && c1 <= high && (c2 & 0xc0) === 0x80 && (c3 & 0xc0) === 0x80 ? 4 : 0;
  }
  return 0;
}

/**
 * The largest length ≤ `max` at which `bytes` can be cut without splitting a UTF-8
 * sequence (so both halves decode as they would have whole); `max` itself when the bytes
 * there aren't valid UTF-8 anyway.
 */
export function utf8Boundary(bytes: Uint8Array, max: number): number {
  if (max >= bytes.length) return bytes.length;
  // Back over at most 3 continuation bytes to the lead byte of the sequence at `max`.
  for (let cut = max; cut > 0 && cut > max - 4; cut--) {
    if (((bytes[cut] as number) & 0xc0) !== 0x80) return cut;
  }
  return max;
}
