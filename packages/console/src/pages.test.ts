import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { ManifestSource, paths, Time } from './pages.js';

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
