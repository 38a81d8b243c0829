import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRfc3339Time } from './rfc3339.js';

test('RFC 3339 date-times with an offset, naming a real instant, and nothing else', () => {
  for (const ok of ['2026-12-03T10:00:00Z', '2026-12-03t10:00:00.123456789z', '2026-12-03 10:00:00+01:00', '2026-12-03T10:00:00.5-05:30']) assert.ok(isRfc3339Time(ok), ok);
  for (const bad of ['2026-12-03', '2026-12-03T10:00:00', 'Thu, 03 Dec 2026 10:00:00 GMT', '2026-13-40T10:00:00Z', '1733220000', '15m', '']) assert.equal(isRfc3339Time(bad), false, bad);
});
