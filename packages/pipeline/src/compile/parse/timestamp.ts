import type { Static } from '@sinclair/typebox';
import type { TimestampParse } from '../../spec/steps.js';
import { compiled, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep } from '../types.js';
import { daysFromCivil, daysInMonth, formatEpochSeconds, formatRfc3339 } from './civil.js';
import { checkedField, notAString, parseFailure, quoted, type At } from './common.js';
import { compileStrftime, newParts, readRfc3339, resetParts, type FormatReader, type Parts } from './timestamp-format.js';
import { compileZone, type ZoneOffset } from './zone.js';

export type TimestampParseSpec = Static<typeof TimestampParse>;

/** Epoch formats and how many decimal places their unit is below a second. */
const EPOCH_SCALES: Record<string, { scale: number; unit: string }> = {
  epoch_s: { scale: 0, unit: 'seconds' },
  epoch_ms: { scale: 3, unit: 'milliseconds' },
  epoch_us: { scale: 6, unit: 'microseconds' },
  epoch_ns: { scale: 9, unit: 'nanoseconds' },
};

/**
 * `timestamp`: reads a time and writes it to `target` (default `@timestamp`) as RFC 3339
 * in UTC, keeping the input's sub-second digits up to nanoseconds, which Elasticsearch
 * `date_nanos` stores exactly (a JS Date would cut them to milliseconds). `at` is the step's path.
 */
export function compileTimestamp(spec: TimestampParseSpec, at: At, _env: CompileEnv): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const source = checkedField(spec.field, [...at, 'timestamp', 'field'], errors);
  const target = checkedField(spec.target ?? '@timestamp', [...at, 'timestamp', 'target'], errors);
  const zone = compileZone(spec.timezone ?? 'UTC');
  if ('error' in zone) errors.add([...at, 'timestamp', 'timezone'], zone.error);

  const format = spec.format;
  const epoch = EPOCH_SCALES[format];
  let read: FormatReader | undefined;
  if (format === 'rfc3339') read = readRfc3339;
  else if (!epoch) {
    if (!format.includes('%')) {
      errors.add([...at, 'timestamp', 'format'], `unknown format "${format}": use rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns, or a strftime-like format such as %Y-%m-%d %H:%M:%S%.f`);
    } else {
      const strftime = compileStrftime(format);
      if (typeof strftime === 'function') read = strftime;
      else for (const reason of strftime.errors) errors.add([...at, 'timestamp', 'format'], reason);
    }
  }
  if (!source || !target || 'error' in zone || errors.errors.length > 0) return { ok: false, errors: errors.errors };

  const name = `field "${spec.field}"`;
  // Like `level`, the time moves to its ECS field: a line without one keeps the runtime's
  // time (the envelope's), and the raw copy isn't indexed twice.
  const moveSource = source.path !== target.path;
  if (epoch) {
    return compiled((record) => {
      const value = source.get(record);
      if (value === undefined || value === null) return undefined;
      const out = fromEpoch(value, epoch.scale);
      if (out === undefined) {
        if (typeof value !== 'string' && typeof value !== 'number') return notAString(name, value, true);
        return parseFailure(`${name} is not a time in ${epoch.unit} since the epoch within years 0000–9999: ${quoted(String(value))}`);
      }
      target.set(record, out);
      if (moveSource) source.remove(record);
      return undefined;
    });
  }

  const reader = read as FormatReader;
  const offsetOf = zone.offset;
  const mismatch = format === 'rfc3339' ? 'is not an RFC 3339 timestamp' : `does not match format ${JSON.stringify(format)}`;
  // Reused for every record: the step is synchronous, so nothing else sees it in between.
  const parts = newParts();
  return compiled((record) => {
    const value = source.get(record);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') return notAString(name, value);
    resetParts(parts);
    if (!reader(value, parts)) return parseFailure(`${name} ${mismatch}: ${quoted(value)}`);
    const out = toRfc3339(parts, offsetOf);
    if (typeof out !== 'string') return parseFailure(`${name} is not a valid date: ${out.reason} in ${quoted(value)}`);
    target.set(record, out);
    if (moveSource) source.remove(record);
    return undefined;
  });
}

/** Validates what was read and converts it to UTC. */
function toRfc3339(p: Parts, offsetOf: ZoneOffset | undefined): string | { reason: string } {
  if (p.month < 1 || p.month > 12) return { reason: `month ${p.month} does not exist` };
  if (p.day < 1 || p.day > daysInMonth(p.year, p.month)) return { reason: `day ${p.day} does not exist in month ${p.month} of ${p.year}` };
  // Second 60 (a leap second) is refused like Elasticsearch refuses it.
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return { reason: `${p.hour}:${p.minute}:${p.second} is not a time of day` };
  let offset = p.offset;
  if (Number.isNaN(offset)) offset = offsetOf ? offsetOf(p) : 0;
  if (offset === 0) return formatRfc3339(p.year, p.month, p.day, p.hour, p.minute, p.second, p.fraction);
  const seconds = daysFromCivil(p.year, p.month, p.day) * 86400 + p.hour * 3600 + p.minute * 60 + p.second - offset;
  return formatEpochSeconds(seconds, p.fraction) ?? { reason: 'it falls outside years 0000–9999 in UTC' };
}

const POWERS = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** An epoch number or numeric string in units of 10^-scale seconds as RFC 3339; undefined when it isn't one. */
export function fromEpoch(value: unknown, scale: number): string | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    if (Number.isSafeInteger(value)) {
      // Exact in doubles: the common case of epoch_ms from JSON needs no string math.
      const unit = POWERS[scale] as number;
      let seconds = Math.floor(value / unit);
      let rest = value - seconds * unit;
      if (rest < 0) (seconds -= 1), (rest += unit);
      else if (rest >= unit) (seconds += 1), (rest -= unit);
      return formatEpochSeconds(seconds, scale === 0 ? '' : String(rest).padStart(scale, '0'));
    }
    // Integers beyond 2^53 (epoch_ns) print exactly through BigInt; String() would use an exponent.
    text = Number.isInteger(value) ? BigInt(value).toString() : plainDecimal(value);
  } else if (typeof value === 'string') text = value;
  else return undefined;
  return fromDecimal(text, scale);
}

function plainDecimal(value: number): string {
  const text = String(value);
  return text.includes('e') ? value.toFixed(20).replace(/0+$/, '') : text;
}

/** String math on `-?digits(.digits)?`, so epoch_ns keeps all nine digits. */
function fromDecimal(text: string, scale: number): string | undefined {
  const negative = text.charCodeAt(0) === 0x2d;
  const start = negative ? 1 : 0;
  let point = start;
  while (point < text.length && isDigit(text.charCodeAt(point))) point++;
  if (point === start) return undefined;
  let decimals = '';
  if (point < text.length) {
    if (text.charCodeAt(point) !== 0x2e || point + 1 === text.length) return undefined;
    for (let i = point + 1; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return undefined;
    decimals = text.slice(point + 1);
  }
  const whole = text.slice(start, point).padStart(scale + 1, '0');
  const secondsText = whole.slice(0, whole.length - scale);
  // Beyond 15 digits the seconds are out of range anyway and no longer exact as a double.
  if (secondsText.replace(/^0+/, '').length > 15) return undefined;
  let seconds = Number(secondsText);
  let fraction = (whole.slice(whole.length - scale) + decimals).slice(0, 9);
  if (negative) {
    seconds = 0 - seconds;
    const digits = Number(fraction);
    if (digits > 0) {
      // Seconds count down but fractions up: -1.25 s is second -2 plus .75.
      seconds -= 1;
      fraction = String((POWERS[fraction.length] as number) - digits).padStart(fraction.length, '0');
    }
  }
  return formatEpochSeconds(seconds, fraction);
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
