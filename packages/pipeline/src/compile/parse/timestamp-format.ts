/**
 * Readers for timestamp formats. A format is compiled once into a list of token readers;
 * per record they only compare character codes and write into a reused `Parts`.
 */

/** The fields read from one value; `offset` is seconds east of UTC, NaN when the value has none. */
export interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction: string;
  offset: number;
}

export const newParts = (): Parts => ({ year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: '', offset: NaN });

export function resetParts(p: Parts): void {
  p.year = p.hour = p.minute = p.second = 0;
  p.month = p.day = 1;
  p.fraction = '';
  p.offset = NaN;
}

/** Reads at `i`; returns the index after what it read, or -1. */
type Reader = (text: string, i: number, p: Parts) => number;

const MAX_FRACTION_DIGITS = 9;

/** The digit at `i`, or -1 (also past the end: charCodeAt gives NaN). */
function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

/** Reads `min`..`max` digits greedily into `set`; -1 if fewer than `min`. */
function number(min: number, max: number, set: (p: Parts, n: number) => void): Reader {
  return (text, i, p) => {
    let n = 0;
    let count = 0;
    for (let d = digit(text, i); d >= 0 && count < max; d = digit(text, i + count)) {
      n = n * 10 + d;
      count++;
    }
    if (count < min) return -1;
    set(p, n);
    return i + count;
  };
}

/** Fraction digits: at least one; beyond nanoseconds they are read but dropped. */
const fraction: Reader = (text, i, p) => {
  let end = i;
  while (digit(text, end) >= 0) end++;
  if (end === i) return -1;
  p.fraction = text.slice(i, Math.min(end, i + MAX_FRACTION_DIGITS));
  return end;
};

/** `Z`, `±hh`, `±hhmm` or `±hh:mm`. */
const offset: Reader = (text, i, p) => {
  const c = text.charCodeAt(i);
  if (c === 0x5a || c === 0x7a) {
    p.offset = 0;
    return i + 1;
  }
  if (c !== 0x2b && c !== 0x2d && c !== 0x2212) return -1; // + - and the Unicode minus
  const h1 = digit(text, i + 1);
  const h2 = digit(text, i + 2);
  if (h1 < 0 || h2 < 0) return -1;
  let end = i + 3;
  let minutes = 0;
  const m = text.charCodeAt(end) === 0x3a ? end + 1 : end;
  const m1 = digit(text, m);
  const m2 = digit(text, m + 1);
  if (m1 >= 0 && m2 >= 0) {
    minutes = m1 * 10 + m2;
    end = m + 2;
  } else if (m !== end) return -1; // `+01:` with no minutes
  const hours = h1 * 10 + h2;
  if (hours > 23 || minutes > 59) return -1;
  p.offset = (c === 0x2b ? 1 : -1) * (hours * 3600 + minutes * 60);
  return end;
};

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** One of `names` (full when `full`, else its first three letters), case-insensitive; `set` gets its 1-based index. */
function name(names: readonly string[], full: boolean, set?: (p: Parts, n: number) => void): Reader {
  const words = names.map((word) => (full ? word : word.slice(0, 3)));
  const longest = Math.max(...words.map((word) => word.length));
  return (text, i, p) => {
    const head = text.slice(i, i + longest).toLowerCase();
    for (let n = 0; n < words.length; n++) {
      const word = words[n] as string;
      if (head.startsWith(word)) {
        set?.(p, n + 1);
        return i + word.length;
      }
    }
    return -1;
  };
}

const literal = (expected: string): Reader => (text, i) => (text.startsWith(expected, i) ? i + expected.length : -1);

const year4 = number(4, 4, (p, n) => (p.year = n));
const month = number(1, 2, (p, n) => (p.month = n));
const day = number(1, 2, (p, n) => (p.day = n));
const hour = number(1, 2, (p, n) => (p.hour = n));
const minute = number(1, 2, (p, n) => (p.minute = n));
const second = number(1, 2, (p, n) => (p.second = n));

/** Which directives there are, what they read, and which date parts they provide. */
const DIRECTIVES: Record<string, { readers: Reader[]; provides?: 'year' | 'month' | 'day' | 'date' }> = {
  Y: { readers: [year4], provides: 'year' },
  // POSIX strptime: 69–99 are 19xx, 00–68 are 20xx.
  y: { readers: [number(2, 2, (p, n) => (p.year = n < 69 ? 2000 + n : 1900 + n))], provides: 'year' },
  m: { readers: [month], provides: 'month' },
  b: { readers: [name(MONTHS, false, (p, n) => (p.month = n))], provides: 'month' },
  B: { readers: [name(MONTHS, true, (p, n) => (p.month = n))], provides: 'month' },
  d: { readers: [day], provides: 'day' },
  e: { readers: [(text, i, p) => day(text, text.charCodeAt(i) === 0x20 ? i + 1 : i, p)], provides: 'day' },
  H: { readers: [hour] },
  M: { readers: [minute] },
  S: { readers: [second] },
  f: { readers: [fraction] },
  '.f': { readers: [(text, i, p) => (text.charCodeAt(i) === 0x2e && digit(text, i + 1) >= 0 ? fraction(text, i + 1, p) : i)] },
  z: { readers: [offset] },
  a: { readers: [name(WEEKDAYS, false)] },
  A: { readers: [name(WEEKDAYS, true)] },
  T: { readers: [hour, literal(':'), minute, literal(':'), second] },
  F: { readers: [year4, literal('-'), month, literal('-'), day], provides: 'date' },
};

export const SUPPORTED_DIRECTIVES = [...Object.keys(DIRECTIVES).map((d) => `%${d}`), '%%'].join(' ');

/** Reads a whole value into `p`; false when it doesn't match. A value without an offset leaves `p.offset` NaN. */
export type FormatReader = (text: string, p: Parts) => boolean;

/** Compiles a strftime-like format, or returns the reasons it can't be used. */
export function compileStrftime(format: string): FormatReader | { errors: string[] } {
  const readers: Reader[] = [];
  const errors: string[] = [];
  const provided = new Set<string>();
  let pending = '';
  const flush = () => {
    if (pending.length > 0) readers.push(literal(pending));
    pending = '';
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string;
    if (c !== '%') {
      pending += c;
      continue;
    }
    let directive = format[i + 1] ?? '';
    if (directive === '.') directive = `.${format[i + 2] ?? ''}`;
    i += directive.length;
    if (directive === '%') {
      pending += '%';
      continue;
    }
    const known = DIRECTIVES[directive];
    if (!known) {
      errors.push(`${directive === '' ? 'a lone % at the end' : `unknown directive %${directive}`}; supported: ${SUPPORTED_DIRECTIVES}`);
      continue;
    }
    flush();
    readers.push(...known.readers);
    if (known.provides === 'date') ['year', 'month', 'day'].forEach((part) => provided.add(part));
    else if (known.provides) provided.add(known.provides);
  }
  flush();
  const missing = ['year', 'month', 'day'].filter((part) => !provided.has(part));
  if (missing.length > 0) errors.push(`has no ${missing.join(', ')}: a format needs %Y or %y, %m, %b or %B, and %d or %e (or %F)`);
  if (errors.length > 0) return { errors };
  return (text, p) => {
    let i = 0;
    for (let r = 0; r < readers.length && i >= 0; r++) i = (readers[r] as Reader)(text, i, p);
    return i === text.length;
  };
}

function twoDigits(text: string, i: number): number {
  const a = digit(text, i);
  const b = digit(text, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * RFC 3339, leniently: `T`, `t` or a space between date and time, `.` or `,` before the
 * fraction, `Z`, `±hh:mm` or `±hhmm`, or no offset at all (then the step's timezone
 * applies). Fixed positions, so this is the fast path of the common case.
 */
export function readRfc3339(text: string, p: Parts): boolean {
  const n = text.length;
  if (n < 19) return false;
  const sep = text.charCodeAt(10);
  if (text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d || (sep !== 0x54 && sep !== 0x74 && sep !== 0x20)) return false;
  if (text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return false;
  const century = twoDigits(text, 0);
  const year = twoDigits(text, 2);
  p.month = twoDigits(text, 5);
  p.day = twoDigits(text, 8);
  p.hour = twoDigits(text, 11);
  p.minute = twoDigits(text, 14);
  p.second = twoDigits(text, 17);
  if (century < 0 || year < 0 || p.month < 0 || p.day < 0 || p.hour < 0 || p.minute < 0 || p.second < 0) return false;
  p.year = century * 100 + year;
  let i = 19;
  const c = text.charCodeAt(i);
  if (c === 0x2e || c === 0x2c) {
    i = fraction(text, i + 1, p);
    if (i < 0) return false;
  }
  return i === n || offset(text, i, p) === n;
}
