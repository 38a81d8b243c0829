import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The keys that sign a tenant's deliveries, by the name its manifest gives in `secretRef`
 * (never the key itself): the file `<dir>/<tenant>/<name>`, one Kubernetes Secret per
 * tenant mounted at `<dir>/<tenant>`. Read at each use, so a rotated key counts without a
 * restart; a tenant can only name its own (tenant and name are checked, no path escapes).
 */
export class SecretFiles {
  constructor(readonly dir: string) {}

  /** The key, without a trailing newline; undefined when there is no such secret (or the names are not names). */
  async read(tenant: string, name: string): Promise<Buffer | undefined> {
    if (!NAME.test(tenant) || tenant.includes('.') || !NAME.test(name) || name.length > 253) return undefined;
    try {
      const key = await readFile(join(this.dir, tenant, name));
      const end = key.length > 0 && key[key.length - 1] === 0x0a ? (key.length > 1 && key[key.length - 2] === 0x0d ? key.length - 2 : key.length - 1) : key.length;
      return end === 0 ? undefined : key.subarray(0, end);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw err;
    }
  }
}
