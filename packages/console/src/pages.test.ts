import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { ReplayResult } from './api.js';
import { DeadLettersPage, ManifestSource, paths, Time } from './pages.js';

test('a manifest is shown line by line, each error right under the line it names, the others above', () => {
  const text = 'spec:\n  parse:\n    - regex: { pattern: "(a)\\\\1" }\n';
  const html = renderToString(
    h(ManifestSource, {
      id: 'change',
      label: 'refused',
      text,
      errors: [
        { path: 'spec.parse[0].regex.pattern', reason: 'backreferences are not supported', line: 3, col: 16 },
        { path: 'metadata.name', reason: 'is required' },
      ],
    }),
  );
  const line3 = html.indexOf('id="change-L3"');
  const error = html.indexOf('backreferences are not supported');
  assert.ok(line3 > 0 && error > line3, 'the error follows line 3');
  assert.match(html.slice(line3, error), /spec\.parse\[0\]\.regex\.pattern/, 'with its path');
  assert.match(html.slice(line3, error), /line 3:16/);
  assert.ok(html.indexOf('metadata.name') < html.indexOf('id="change-L1"'), 'an error without a line is listed before the text');
  assert.equal((html.match(/class="line bad"/g) ?? []).length, 1, 'only line 3 is marked');
});

test('whatever a manifest or an error says is rendered as text, never as markup', () => {
  const hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">';
  const html = renderToString(h(ManifestSource, { id: 'x', label: hostile, text: `value: ${hostile}`, errors: [{ path: hostile, reason: hostile, line: 1 }] }));
  assert.doesNotMatch(html, /<script|<img/i);
  assert.match(html, /&lt;script>alert\(1\)&lt;\/script>&lt;img src=x onerror=&quot;alert\(2\)&quot;>/);
});

test('times are rendered in UTC with a machine-readable datetime, for the page script to localize', () => {
  const html = renderToString(h(Time, { iso: '2026-12-03T10:04:05.123Z' }));
  assert.equal(html, '<time datetime="2026-12-03T10:04:05.123Z" title="2026-12-03 10:04:05 UTC">2026-12-03 10:04:05 UTC</time>');
  assert.match(renderToString(h(Time, { iso: null })), /never/);
});

test('console URLs are built from names, encoded', () => {
  assert.equal(paths.pipeline('payments', 'checkout-api'), '/console/tenants/payments/pipelines/checkout-api');
  assert.equal(paths.tenant('a/../b'), '/console/tenants/a%2F..%2Fb');
});

test('a replay under way shows how far it read and carries its counts to its next request; once done, a new one can start', () => {
  const page = (result: ReplayResult) =>
    renderToString(
      h(DeadLettersPage, {
        tenant: 'payments',
        filter: { pipeline: 'api' },
        pipelines: ['api'],
        letters: [],
        replay: { request: { pipeline: 'api', since: '2026-12-03T10:00:00Z', until: '2026-12-03T11:00:00Z', dryRun: false, deadLetters: ['0/4', '0/9'] }, result },
        since: '2026-12-03T10:00:00Z',
        until: '2026-12-03T11:00:00Z',
      }),
    );
  const going = page({ matched: 3, replayed: 2, skipped: 1, scanned: 40, total: 100, remaining: 60, resume: 'token<&>', done: false });
  assert.match(going, /Going on: 40 of 100 records read so far\./);
  assert.match(going, /<progress value="40" max="100"/);
  const form = going.slice(going.indexOf('data-auto-continue'));
  for (const [name, value] of [['resume', 'token&lt;&amp;>'], ['pipeline', 'api'], ['deadLetters', '0/4,0/9'], ['matchedSoFar', '3'], ['replayedSoFar', '2'], ['skippedSoFar', '1'], ['scannedSoFar', '40']]) {
    assert.match(form, new RegExp(`name="${name}" value="${value}"`), name);
  }
  assert.doesNotMatch(going, /id="since"/, 'no new replay while one goes on');
  const done = page({ matched: 3, replayed: 3, skipped: 0, scanned: 100, total: 100, remaining: 0, done: true });
  assert.match(done, /Of the 2 selected: Replayed 3 of 3 matching \(0 skipped, 100 read\)\. Done\./);
  assert.doesNotMatch(done, /<progress|data-auto-continue|name="resume"/);
  assert.match(done, /id="since"/);
});
