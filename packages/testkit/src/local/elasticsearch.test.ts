import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { EngineError } from '../errors.js';
import { installElasticsearch } from './elasticsearch.js';

test('as root, a cache Elasticsearch\'s user cannot reach is refused before any download', { skip: process.getuid?.() !== 0 && 'only root runs Elasticsearch as another user' }, async () => {
  const closed = mkdtempSync(join(tmpdir(), 'testkit-closed-')); // mode 0700
  try {
    await assert.rejects(
      installElasticsearch({ env: {}, cacheRoot: join(closed, 'engines'), javaHome: '/nonexistent', logger: pino({ level: 'silent' }), startTimeoutMs: 1000 }),
      (err: unknown) =>
        err instanceof EngineError && err.code === 'TRIBUTARY_ENGINES_CONFIG' && err.message.includes(`can't enter ${closed}`) && /TRIBUTARY_CACHE_DIR/.test(err.message),
    );
  } finally {
    rmSync(closed, { recursive: true, force: true });
  }
});
