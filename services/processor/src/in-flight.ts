/** Bytes a process may hold in flight: fetched and not yet stored, dead-lettered, dropped or abandoned. */
export interface InFlightLimits {
  /** All tenants together; reaching it stops fetching altogether until it drains. Default 64 MiB. */
  readonly process: number;
  /** One tenant's partitions together; reaching it pauses them, so one tenant can't take the whole process. Default 32 MiB. */
  readonly tenant: number;
  /** One partition; reaching it pauses that partition. Default 8 MiB. */
  readonly partition: number;
}

export const DEFAULT_IN_FLIGHT_LIMITS: InFlightLimits = Object.freeze({ process: 64 * 1024 * 1024, tenant: 32 * 1024 * 1024, partition: 8 * 1024 * 1024 });

/**
 * Counts the bytes in flight per process, tenant and partition, and says when to stop
 * fetching and when to start again. Pausing at the limit and resuming below half of it
 * keeps a partition from flapping between the two on every record.
 */
export class InFlightBudget {
  private total = 0;
  private readonly tenants = new Map<string, number>();
  private readonly partitions = new Map<string, number>();

  constructor(readonly limits: InFlightLimits = DEFAULT_IN_FLIGHT_LIMITS) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isFinite(value) || value < 1) throw new RangeError(`in-flight limit ${name} must be ≥ 1 byte, got ${value}`);
    }
  }

  get bytes(): number {
    return this.total;
  }

  tenantBytes(tenant: string): number {
    return this.tenants.get(tenant) ?? 0;
  }

  partitionBytes(partition: string): number {
    return this.partitions.get(partition) ?? 0;
  }

  add(tenant: string, partition: string, bytes: number): void {
    this.total += bytes;
    this.tenants.set(tenant, this.tenantBytes(tenant) + bytes);
    this.partitions.set(partition, this.partitionBytes(partition) + bytes);
  }

  remove(tenant: string, partition: string, bytes: number): void {
    this.total -= bytes;
    const t = this.tenantBytes(tenant) - bytes;
    if (t > 0) this.tenants.set(tenant, t);
    else this.tenants.delete(tenant);
    const p = this.partitionBytes(partition) - bytes;
    if (p > 0) this.partitions.set(partition, p);
    else this.partitions.delete(partition);
  }

  /** The process holds as much as it may: fetch nothing more until it drains. */
  full(): boolean {
    return this.total >= this.limits.process;
  }

  /** The partition, or its tenant, reached its limit: pause the partition. */
  shouldPause(tenant: string, partition: string): boolean {
    return this.partitionBytes(partition) >= this.limits.partition || this.tenantBytes(tenant) >= this.limits.tenant;
  }

  /** Both the partition and its tenant drained below half their limits: resume it. */
  mayResume(tenant: string, partition: string): boolean {
    return this.partitionBytes(partition) <= this.limits.partition / 2 && this.tenantBytes(tenant) <= this.limits.tenant / 2;
  }
}
