/**
 * Payment card numbers in free text: 13–19 digits, optionally grouped by single spaces or
 * dashes, passing the Luhn check (so random digit runs, ids and timestamps mostly stay).
 * A hand-written scan rather than a regex, since spans must be tried against Luhn: one
 * pass, linear in the text.
 */

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
const isDigit = (code: number) => code >= 48 && code <= 57;
const isSeparator = (code: number) => code === 32 || code === 45;

// Reused across calls (steps run one record at a time) so scanning allocates nothing.
const chunkStart: number[] = [];
const chunkEnd: number[] = [];
// 13 digits, single separators allowed: V8 rules out most texts faster than the scan below.
// Bounded repeats of a deterministic step keep it linear.
const LONG_ENOUGH = /[0-9](?:[ -]?[0-9]){12}/;

/** Replaces each card number in `text` by `mask(match)`; returns `text` itself when there is none. */
export function maskCards(text: string, mask: (match: string) => string): string {
  if (!LONG_ENOUGH.test(text)) return text;
  let out: string | undefined;
  let copied = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // A group: runs of digits (chunks) joined by single separators. Counted first without
    // recording anything, since nearly every group is too short to be a card.
    const groupStart = i;
    let digits = 0;
    for (;;) {
      while (i < length && isDigit(text.charCodeAt(i))) {
        i++;
        digits++;
      }
      if (i + 1 < length && isSeparator(text.charCodeAt(i)) && isDigit(text.charCodeAt(i + 1))) i++;
      else break;
    }
    if (digits < MIN_DIGITS) continue;
    const groupEnd = i;
    chunkStart.length = 0;
    chunkEnd.length = 0;
    for (let j = groupStart; j < groupEnd; j++) {
      chunkStart.push(j);
      while (j < groupEnd && isDigit(text.charCodeAt(j))) j++;
      chunkEnd.push(j);
    }
    // Within the group, take the longest span of whole chunks that is a card, leftmost first;
    // at most MAX_DIGITS chunks fit in a span, so this stays linear.
    const chunks = chunkStart.length;
    for (let first = 0; first < chunks; ) {
      // Widen to the most chunks that fit, then narrow while the span is still long enough.
      let total = 0;
      let last = first - 1;
      while (last + 1 < chunks) {
        const next = total + (chunkEnd[last + 1] as number) - (chunkStart[last + 1] as number);
        if (next > MAX_DIGITS) break;
        total = next;
        last++;
      }
      let found = -1;
      for (; last >= first && total >= MIN_DIGITS; last--) {
        if (luhn(text, chunkStart[first] as number, chunkEnd[last] as number)) {
          found = last;
          break;
        }
        total -= (chunkEnd[last] as number) - (chunkStart[last] as number);
      }
      if (found < 0) {
        first++;
        continue;
      }
      const start = chunkStart[first] as number;
      const end = chunkEnd[found] as number;
      out = (out ?? '') + text.slice(copied, start) + mask(text.slice(start, end));
      copied = end;
      first = found + 1;
    }
  }
  return out === undefined ? text : out + text.slice(copied);
}

/** The Luhn checksum over the digits of text[start, end), separators skipped. */
function luhn(text: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) continue;
    let digit = code - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}
