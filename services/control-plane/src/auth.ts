import { createHash, timingSafeEqual } from 'node:crypto';

/** Who a request acts as: one tenant, or the platform's admin (every tenant). */
export type Principal = { readonly kind: 'tenant'; readonly tenant: string } | { readonly kind: 'admin' };

export interface TokenConfig {
  /** tenant → its tokens. */
  readonly tenants: Readonly<Record<string, readonly string[]>>;
  readonly adminToken?: string | undefined;
}

/**
 * Maps bearer tokens to principals. Tokens are kept only as SHA-256 digests and compared in
 * constant time against every entry, so neither timing nor a heap dump gives one away.
 */
export class TokenAuthenticator {
  private readonly entries: Array<{ digest: Buffer; principal: Principal }> = [];

  constructor(config: TokenConfig) {
    for (const [tenant, tokens] of Object.entries(config.tenants)) {
      for (const token of tokens) this.entries.push({ digest: digest(token), principal: { kind: 'tenant', tenant } });
    }
    if (config.adminToken) this.entries.push({ digest: digest(config.adminToken), principal: { kind: 'admin' } });
  }

  /** The principal of an `Authorization` header, or undefined. */
  authenticate(header: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return undefined;
    const presented = digest(match[1] as string);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      // No early exit: every request costs the same whichever token it carries.
      if (timingSafeEqual(entry.digest, presented) && !found) found = entry.principal;
    }
    return found;
  }
}

/** Whether `principal` may read and write `tenant`'s pipelines. */
export function mayAccess(principal: Principal, tenant: string): boolean {
  return principal.kind === 'admin' || principal.tenant === tenant;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Parses `TRIBUTARY_TOKENS` (`payments=tok1,payments=tok2,orders=tok3`). */
export function parseTokenList(value: string): Record<string, string[]> {
  const tenants: Record<string, string[]> = {};
  const pairs = value.split(',').map((p) => p.trim()).filter(Boolean);
  for (const [index, pair] of pairs.entries()) {
    const at = pair.indexOf('=');
    // Never echo the entry: it holds a secret.
    if (at <= 0 || at === pair.length - 1) throw new Error(`TRIBUTARY_TOKENS entry ${index + 1} is not tenant=token`);
    (tenants[pair.slice(0, at)] ??= []).push(pair.slice(at + 1));
  }
  return tenants;
}
