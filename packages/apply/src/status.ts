import type { ManifestError } from '@tributary/pipeline';

/** The value of `tributary.status` for one pipeline: what is in force, and the last attempt. */
export interface PipelineStatus {
  readonly tenant: string;
  readonly name: string;
  readonly accepted: { readonly version: number; readonly appliedAt: string } | null;
  readonly lastAttempt: {
    readonly at: string;
    readonly outcome: 'accepted' | 'unchanged' | 'rejected' | 'deleted';
    readonly version?: number;
    readonly errors: readonly ManifestError[];
    /**
     * A refused attempt's manifest as it was sent (up to REFUSED_MANIFEST_LIMIT bytes), so
     * its errors can be shown at their lines; absent otherwise, and in older records.
     */
    readonly manifest?: string;
  };
}

/** The longest refused manifest kept in its status: room for it in one record of tributary.status. */
export const REFUSED_MANIFEST_LIMIT = 256 * 1024;

/** The latest status per `<tenant>/<name>`, fed from the compacted status topic and by applies. */
export class StatusBook {
  private readonly statuses = new Map<string, PipelineStatus>();

  /** Takes a record of `tributary.status`; a malformed one is ignored (and reported to the caller). */
  update(key: string, value: Buffer | string | null): boolean {
    if (value === null) {
      this.statuses.delete(key);
      return true;
    }
    try {
      const status = JSON.parse(String(value)) as PipelineStatus;
      if (typeof status !== 'object' || status === null || `${status.tenant}/${status.name}` !== key) return false;
      this.statuses.set(key, status);
      return true;
    } catch {
      return false;
    }
  }

  get(tenant: string, name: string): PipelineStatus | undefined {
    return this.statuses.get(`${tenant}/${name}`);
  }

  /** Every tenant with a status. */
  tenants(): string[] {
    return [...new Set([...this.statuses.values()].map((s) => s.tenant))];
  }

  /** The names of a tenant's pipelines that have a status. */
  names(tenant: string): string[] {
    return [...this.statuses.values()].filter((s) => s.tenant === tenant).map((s) => s.name);
  }
}

