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
    const length = sequenceLength(buffer, i);
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

/** The length of the valid UTF-8 sequence starting at `i` (RFC 3629), or 0 if there is none. */
function sequenceLength(b: Buffer, i: number): number {
  const lead = b[i] as number;
  if (lead < 0x80) return 1;
  const cont = (at: number, low = 0x80, high = 0xbf): boolean => {
    const byte = b[at];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (lead >= 0xc2 && lead <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(i + 1, low, high) && cont(i + 2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const [low, high] = lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(i + 1, low, high) && cont(i + 2) && cont(i + 3) ? 4 : 0;
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
