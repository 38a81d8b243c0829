import { daysFromCivil } from './civil.js';
import type { Parts } from './timestamp-format.js';

/** Zones that are UTC under another name: they take the fast path, with no Intl per record. */
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'GMT', 'Etc/GMT', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0', 'GMT0', 'GMT+0', 'GMT-0', 'Etc/Greenwich', 'Greenwich']);

/** Seconds east of UTC for a local wall-clock time in the zone. */
export type ZoneOffset = (p: Parts) => number;

/** A zone's offsets, `undefined` for UTC, or an error reason for a zone Intl doesn't know. */
export function compileZone(timeZone: string): { offset: ZoneOffset | undefined } | { error: string } {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (err) {
    if (err instanceof RangeError) return { error: `unknown time zone "${timeZone}": use an IANA name such as Europe/Berlin or UTC` };
    throw err;
  }
  if (UTC_ZONES.has(format.resolvedOptions().timeZone)) return { offset: undefined };

  /** The zone's offset at an instant. */
  const offsetAt = (epochSeconds: number): number => {
    let year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    for (const part of format.formatToParts(epochSeconds * 1000)) {
      const value = Number(part.value);
      if (part.type === 'year') year = value;
      else if (part.type === 'month') month = value;
      else if (part.type === 'day') day = value;
      else if (part.type === 'hour') hour = value % 24;
      else if (part.type === 'minute') minute = value;
      else if (part.type === 'second') second = value;
    }
    return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - epochSeconds;
  };

  /**
   * The offset that makes `local` a real time in the zone. In a DST gap (a wall time that
   * never happened) the smaller offset is taken, which reads the time as after the jump,
   * like Temporal's "compatible"; in an overlap either reading may be returned.
   */
  const resolve = (local: number): number => {
    const first = offsetAt(local);
    const second = offsetAt(local - first);
    if (first === second) return first;
    return offsetAt(local - second) === second ? second : Math.min(first, second);
  };

  // Offsets change a few times a year, so cache them per local hour; an hour with a
  // transition in it is marked NaN and resolved per record.
  const byHour = new Map<number, number>();
  return {
    offset: (p) => {
      const local = daysFromCivil(p.year, p.month, p.day) * 86400 + p.hour * 3600 + p.minute * 60 + p.second;
      const hour = Math.floor(local / 3600);
      let offset = byHour.get(hour);
      if (offset === undefined) {
        const start = resolve(hour * 3600);
        offset = start === resolve(hour * 3600 + 3599) ? start : NaN;
        if (byHour.size >= 4096) byHour.clear();
        byHour.set(hour, offset);
      }
      return Number.isNaN(offset) ? resolve(local) : offset;
    },
  };
}
