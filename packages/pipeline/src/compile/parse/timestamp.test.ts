import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTimestamp, type TimestampParseSpec } from './timestamp.js';
import { AT, env, errorsOf, run, step } from './testing.js';

const parse = (format: string, value: unknown, extra: Partial<TimestampParseSpec> = {}) => {
  const { outcome, record } = run(step(compileTimestamp({ field: 'time', format, ...extra }, AT, env)), { time: value });
  return outcome ?? record[extra.target ?? '@timestamp'];
};
const failure = (message: string) => ({ class: 'parse', message });

test('rfc3339: Z, offsets, separators and fractions up to nanoseconds', () => {
  assert.equal(parse('rfc3339', '2026-11-25T10:00:00.123456789Z'), '2026-11-25T10:00:00.123456789Z');
  assert.equal(parse('rfc3339', '2026-11-25T10:00:00Z'), '2026-11-25T10:00:00Z');
  assert.equal(parse('rfc3339', '2026-11-25t10:00:00.120z'), '2026-11-25T10:00:00.120Z');
  assert.equal(parse('rfc3339', '2026-11-25 10:00:00,5+01:00'), '2026-11-25T09:00:00.5Z');
  assert.equal(parse('rfc3339', '2026-11-25T10:00:00.1234567-05:30'), '2026-11-25T15:30:00.1234567Z');
  assert.equal(parse('rfc3339', '2026-01-01T00:30:00+0100'), '2025-12-31T23:30:00Z');
  assert.equal(parse('rfc3339', '2026-11-25T10:00:00.123456789123Z'), '2026-11-25T10:00:00.123456789Z');
  assert.equal(parse('rfc3339', '0001-01-01T00:00:00Z'), '0001-01-01T00:00:00Z');
  assert.equal(parse('rfc3339', '2024-02-29T23:59:59-01:00'), '2024-03-01T00:59:59Z');
  assert.equal(parse('rfc3339', '2000-02-29T00:00:00Z'), '2000-02-29T00:00:00Z');
});

test('rfc3339 without an offset takes the timezone, with DST', () => {
  assert.equal(parse('rfc3339', '2026-07-01T12:00:00.5', { timezone: 'Europe/Berlin' }), '2026-07-01T10:00:00.5Z');
  assert.equal(parse('rfc3339', '2026-01-15T12:00:00', { timezone: 'Europe/Berlin' }), '2026-01-15T11:00:00Z');
  assert.equal(parse('rfc3339', '2026-01-15T12:00:00+00:00', { timezone: 'Europe/Berlin' }), '2026-01-15T12:00:00Z');
  assert.equal(parse('rfc3339', '2026-01-15T12:00:00'), '2026-01-15T12:00:00Z');
  assert.equal(parse('rfc3339', '2026-03-29T01:59:59', { timezone: 'Europe/Berlin' }), '2026-03-29T00:59:59Z');
  // 02:30 never happened that night in Berlin: read as after the jump.
  assert.equal(parse('rfc3339', '2026-03-29T02:30:00', { timezone: 'Europe/Berlin' }), '2026-03-29T01:30:00Z');
  assert.equal(parse('rfc3339', '2026-03-29T03:00:00', { timezone: 'Europe/Berlin' }), '2026-03-29T01:00:00Z');
  assert.equal(parse('rfc3339', '2026-11-25T10:00:00', { timezone: 'Asia/Kolkata' }), '2026-11-25T04:30:00Z');
  assert.equal(parse('rfc3339', '2026-11-25T10:00:00', { timezone: 'Etc/UTC' }), '2026-11-25T10:00:00Z');
});

test('a local time in a zone reads back as the instant it was printed from', () => {
  for (const timeZone of ['America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Sao_Paulo']) {
    const show = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    const s = step(compileTimestamp({ field: 'time', format: '%Y-%m-%d %H:%M:%S', timezone: timeZone }, AT, env));
    let checked = 0;
    for (let i = 0; i < 500; i++) {
      const instant = Math.floor(Date.UTC(2020, 0, 1) / 1000) + Math.floor(Math.random() * 8 * 365 * 86400);
      const next = show.format((instant + 3600) * 1000);
      const prev = show.format((instant - 3600) * 1000);
      // Around a transition a local time can be ambiguous; those are not checked.
      if (Date.parse(`${next.replace(' ', 'T')}Z`) - Date.parse(`${prev.replace(' ', 'T')}Z`) !== 7200_000) continue;
      const { outcome, record } = run(s, { time: show.format(instant * 1000) });
      assert.equal(outcome, undefined);
      assert.equal(record['@timestamp'], new Date(instant * 1000).toISOString().replace('.000Z', 'Z'), `${timeZone} ${show.format(instant * 1000)}`);
      checked++;
    }
    assert.ok(checked > 400);
  }
});

test('impossible dates and malformed values are parse failures', () => {
  assert.deepEqual(parse('rfc3339', '2026-13-01T00:00:00Z'), failure('field "time" is not a valid date: month 13 does not exist in "2026-13-01T00:00:00Z"'));
  assert.deepEqual(parse('rfc3339', '2026-02-29T00:00:00Z'), failure('field "time" is not a valid date: day 29 does not exist in month 2 of 2026 in "2026-02-29T00:00:00Z"'));
  assert.deepEqual(parse('rfc3339', '1900-02-29T00:00:00Z'), failure('field "time" is not a valid date: day 29 does not exist in month 2 of 1900 in "1900-02-29T00:00:00Z"'));
  assert.deepEqual(parse('rfc3339', '2026-01-01T24:00:00Z'), failure('field "time" is not a valid date: 24:0:0 is not a time of day in "2026-01-01T24:00:00Z"'));
  assert.deepEqual(parse('rfc3339', '0000-01-01T00:00:00+01:00'), failure('field "time" is not a valid date: it falls outside years 0000–9999 in UTC in "0000-01-01T00:00:00+01:00"'));
  for (const value of ['', '2026-11-25', '2026-11-25T10:00Z', '2026-11-25T10:00:00.Z', '2026-11-25T10:00:00+1', '2026-11-25T10:00:00+01:', '2026-11-25T10:00:00Z ', '２０２６-11-25T10:00:00Z', '2026-11-25T10:00:00+24:00']) {
    assert.deepEqual(parse('rfc3339', value), failure(`field "time" is not an RFC 3339 timestamp: ${JSON.stringify(value)}`), value);
  }
  assert.deepEqual(parse('rfc3339', 'x'.repeat(100_000)), failure(`field "time" is not an RFC 3339 timestamp: "${'x'.repeat(64)}…"`));
  assert.deepEqual(parse('rfc3339', 1764064800), failure('field "time" is a number, not a string'));
  assert.equal(parse('rfc3339', undefined), undefined, 'a missing time keeps the runtime time: no failure, nothing written');
});

test('epoch formats keep their precision', () => {
  assert.equal(parse('epoch_s', 1764064800), '2025-11-25T10:00:00Z');
  assert.equal(parse('epoch_s', 1764064800.5), '2025-11-25T10:00:00.5Z');
  assert.equal(parse('epoch_s', '1764064800.123456789'), '2025-11-25T10:00:00.123456789Z');
  assert.equal(parse('epoch_s', '1764064800.1234567891'), '2025-11-25T10:00:00.123456789Z');
  assert.equal(parse('epoch_ms', 1764064800123), '2025-11-25T10:00:00.123Z');
  assert.equal(parse('epoch_ms', 1764064800000), '2025-11-25T10:00:00.000Z');
  assert.equal(parse('epoch_ms', '1764064800123.456'), '2025-11-25T10:00:00.123456Z');
  assert.equal(parse('epoch_us', '1764064800123456'), '2025-11-25T10:00:00.123456Z');
  assert.equal(parse('epoch_us', 1764064800123456), '2025-11-25T10:00:00.123456Z');
  assert.equal(parse('epoch_ns', '1764064800123456789'), '2025-11-25T10:00:00.123456789Z');
  assert.equal(parse('epoch_ns', 1764064800123456789), '2025-11-25T10:00:00.123456768Z'); // the double nearest the number
  assert.equal(parse('epoch_ns', 5), '1970-01-01T00:00:00.000000005Z');
  assert.equal(parse('epoch_s', 0), '1970-01-01T00:00:00Z');
  assert.equal(parse('epoch_s', -1.25), '1969-12-31T23:59:58.75Z');
  assert.equal(parse('epoch_s', '-1'), '1969-12-31T23:59:59Z');
  assert.equal(parse('epoch_ms', -1), '1969-12-31T23:59:59.999Z');
  assert.equal(parse('epoch_ns', '-1'), '1969-12-31T23:59:59.999999999Z');
  assert.equal(parse('epoch_s', 1e-7), '1970-01-01T00:00:00.0000001Z');
  assert.equal(parse('epoch_s', 253402300799), '9999-12-31T23:59:59Z');
  for (let i = 0; i < 1000; i++) {
    const ms = Math.floor((Math.random() - 0.3) * 1e13);
    assert.equal(parse('epoch_ms', ms), new Date(ms).toISOString());
    assert.equal(parse('epoch_us', `${ms}000`), new Date(ms).toISOString().replace('Z', '000Z'));
  }
});

test('epoch failures', () => {
  const message = 'field "time" is not a time in seconds since the epoch within years 0000–9999';
  for (const value of ['', '12a', '1.', '.5', '1e3', ' 1', '+1', '--1', Infinity, NaN, 253402300800, '99999999999999999999']) {
    assert.deepEqual(parse('epoch_s', value), failure(`${message}: ${JSON.stringify(String(value))}`), String(value));
  }
  assert.deepEqual(parse('epoch_ms', true), failure('field "time" is a boolean, not a string or a number'));
  assert.equal(parse('epoch_ms', null), undefined, 'null is treated as missing');
});

test('strftime-like formats', () => {
  assert.equal(parse('%d/%b/%Y:%H:%M:%S %z', '25/nov/2026:10:00:00 +0100'), '2026-11-25T09:00:00Z');
  assert.equal(parse('%Y-%m-%d %H:%M:%S,%f', '2026-11-25 10:00:00,123', { timezone: 'America/New_York' }), '2026-11-25T15:00:00.123Z');
  assert.equal(parse('%F %T%.f', '2026-11-25 10:00:00'), '2026-11-25T10:00:00Z');
  assert.equal(parse('%F %T%.f', '2026-11-25 10:00:00.000001'), '2026-11-25T10:00:00.000001Z');
  assert.equal(parse('%b %e %T %Y', 'Nov  5 10:00:00 2026'), '2026-11-05T10:00:00Z');
  assert.equal(parse('%b %e %T %Y', 'Nov 15 10:00:00 2026'), '2026-11-15T10:00:00Z');
  assert.equal(parse('%a, %d %B %Y %T %z', 'Wed, 25 November 2026 10:00:00 Z'), '2026-11-25T10:00:00Z');
  assert.equal(parse('%y%m%d-%H%M%S', '261125-100000'), '2026-11-25T10:00:00Z');
  assert.equal(parse('%y%m%d', '691231'), '1969-12-31T00:00:00Z');
  assert.equal(parse('%Y-%m-%d', '2026-1-5'), '2026-01-05T00:00:00Z');
  assert.equal(parse('[%Y] 100%% %m/%d %H:%M:%S.%f%z', '[2026] 100% 11/25 10:00:00.5-02:30'), '2026-11-25T12:30:00.5Z');
  assert.equal(parse('%Y年%m月%d日', '2026年11月25日'), '2026-11-25T00:00:00Z');
  assert.deepEqual(parse('%F %T', '2026-11-25 10:00:00 trailing'), failure('field "time" does not match format "%F %T": "2026-11-25 10:00:00 trailing"'));
  assert.deepEqual(parse('%d/%b/%Y', '25/Nox/2026'), failure('field "time" does not match format "%d/%b/%Y": "25/Nox/2026"'));
  assert.deepEqual(parse('%F', '2026-13-01'), failure('field "time" is not a valid date: month 13 does not exist in "2026-13-01"'));
  assert.deepEqual(parse('%F %T', 20261125), failure('field "time" is a number, not a string'));
});

test('target, and the source moves there', () => {
  const { record } = run(step(compileTimestamp({ field: 'a.t', format: 'epoch_s', target: 'event.created' }, AT, env)), { a: { t: '0' } });
  assert.deepEqual(record, { a: {}, event: { created: '1970-01-01T00:00:00Z' } });
  const { record: same } = run(step(compileTimestamp({ field: 'ts', format: 'epoch_s', target: 'ts' }, AT, env)), { ts: 0 });
  assert.deepEqual(same, { ts: '1970-01-01T00:00:00Z' });
});

test('compile errors carry the exact path, all at once', () => {
  const at = (...rest: string[]) => ['spec', 'parse', 2, 'timestamp', ...rest];
  const errors = errorsOf(compileTimestamp({ field: '__proto__', format: '%Y-%Q-%d %k%', timezone: 'Mars/Base', target: 'x.prototype' }, AT, env));
  assert.deepEqual(errors.map((e) => e.segments), [at('field'), at('target'), at('timezone'), at('format'), at('format'), at('format'), at('format')]);
  assert.match(errors[2]?.reason ?? '', /unknown time zone "Mars\/Base"/);
  assert.match(errors[3]?.reason ?? '', /^unknown directive %Q; supported: %Y %y %m %b %B %d %e %H %M %S %f %\.f %z %a %A %T %F %%$/);
  assert.match(errors[5]?.reason ?? '', /^a lone % at the end/);
  assert.match(errors[6]?.reason ?? '', /^has no month: /);
  assert.match(errorsOf(compileTimestamp({ field: 't', format: 'iso8601' }, AT, env))[0]?.reason ?? '', /^unknown format "iso8601": use rfc3339, epoch_s/);
  assert.match(errorsOf(compileTimestamp({ field: 't', format: '%H:%M' }, AT, env))[0]?.reason ?? '', /^has no year, month, day/);
  assert.ok(compileTimestamp({ field: 't', format: 'epoch_ms', timezone: 'utc' }, AT, env).ok);
});
