import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretFiles } from './index.js';

test('a tenant’s signing keys are read by name from its own directory, read again after a rotation, and no name escapes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  try {
    mkdirSync(join(dir, 'payments'));
    mkdirSync(join(dir, 'billing'));
    writeFileSync(join(dir, 'payments', 'hook-key'), 'whsec-1\n');
    writeFileSync(join(dir, 'billing', 'hook-key'), 'billing-key');
    writeFileSync(join(dir, 'payments', 'empty'), '\n');
    const secrets = new SecretFiles(dir);
    assert.equal((await secrets.read('payments', 'hook-key'))?.toString(), 'whsec-1', 'without the newline');
    writeFileSync(join(dir, 'payments', 'hook-key'), 'whsec-2\r\n');
    assert.equal((await secrets.read('payments', 'hook-key'))?.toString(), 'whsec-2', 'a rotated key counts at once');
    assert.equal((await secrets.read('billing', 'hook-key'))?.toString(), 'billing-key');
    for (const [tenant, name] of [['payments', 'absent'], ['payments', 'empty'], ['payments', '../billing/hook-key'], ['payments', '..'], ['..', 'payments'], ['payments/..', 'billing'], ['PAYMENTS', 'hook-key']]) {
      assert.equal(await secrets.read(tenant as string, name as string), undefined, `${tenant} ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
