import { tenantNames } from '@tributary/tenant';

/**
 * The name of a tenant's index: `<prefix><name>`, lowercased as Elasticsearch requires.
 * `name` comes from a manifest; the pipeline compiler validates it before this is called.
 */
export function tenantIndex(tenant: string, name: string): string {
  return `${tenantNames(tenant).indexPrefix}${name.toLowerCase()}`;
}

/** A wildcard that matches every index of a tenant and nothing of anyone else's. */
export function tenantIndexPattern(tenant: string): string {
  return `${tenantNames(tenant).indexPrefix}*`;
}
