import { deliveryStatusKey, type DeliveryStatus } from '@tributary/notify';

/** The last settled notification of every dead-letter subscription, fed from `tributary.deliveries`. */
export class DeliveryBook {
  private readonly deliveries = new Map<string, DeliveryStatus>();

  /** Takes a record; a malformed one is ignored (false). */
  update(key: string, value: Buffer | string | null): boolean {
    if (value === null) {
      this.deliveries.delete(key);
      return true;
    }
    try {
      const status = JSON.parse(String(value)) as DeliveryStatus;
      if (typeof status !== 'object' || status === null || deliveryStatusKey(status.tenant, status.pipeline, status.subscription) !== key) return false;
      this.deliveries.set(key, status);
      return true;
    } catch {
      return false;
    }
  }

  /** A pipeline's subscriptions' last deliveries, by subscription. */
  of(tenant: string, pipeline: string): DeliveryStatus[] {
    const prefix = `${tenant}/${pipeline}#`;
    return [...this.deliveries].filter(([key]) => key.startsWith(prefix)).map(([, status]) => status).sort((a, b) => a.subscription - b.subscription);
  }
}
