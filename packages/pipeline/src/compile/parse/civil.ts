/**
 * Calendar arithmetic on plain numbers (Howard Hinnant's algorithms): the timestamp step
 * runs per record, and `Date` neither keeps nanoseconds nor formats years < 1000 as RFC
 * 3339 wants, so dates are computed and printed here without allocating objects.
 */

/** Seconds from 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z to the epoch: what RFC 3339 can print. */
export const MIN_EPOCH_SECONDS = -62167219200;
export const MAX_EPOCH_SECONDS = 253402300799;

export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] as number);
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date of a day since the epoch, packed as `year * 10000 + month * 100 + day` so nothing is allocated. */
export function civilFromDays(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year * 10000 + month * 100 + day;
}

const PAD2 = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/** `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; the fraction's digits are printed as given, so its precision is kept. */
export function formatRfc3339(year: number, month: number, day: number, hour: number, minute: number, second: number, fraction: string): string {
  const y = year >= 1000 ? String(year) : String(year).padStart(4, '0');
  const base = `${y}-${PAD2[month]}-${PAD2[day]}T${PAD2[hour]}:${PAD2[minute]}:${PAD2[second]}`;
  return fraction.length > 0 ? `${base}.${fraction}Z` : `${base}Z`;
}

/** Formats whole seconds since the epoch; undefined outside years 0000–9999. */
export function formatEpochSeconds(seconds: number, fraction: string): string | undefined {
  if (!(seconds >= MIN_EPOCH_SECONDS && seconds <= MAX_EPOCH_SECONDS)) return undefined;
  const days = Math.floor(seconds / 86400);
  const secondOfDay = seconds - days * 86400;
  const date = civilFromDays(days);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  return formatRfc3339(Math.floor(date / 10000), Math.floor(date / 100) % 100, date % 100, hour, minute, secondOfDay % 60, fraction);
}
