import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.js';

export type UrlCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface UrlCheckOptions {
  /** How long a name may take to resolve; default 2000 ms. A name that doesn't resolve is not refused (see `checkWebhookUrl`). */
  readonly timeoutMs?: number;
  /** Whether a name is resolved here; default true. A sender connecting through `guardedLookup` checks the address it connects to, and needs no lookup of its own. */
  readonly resolve?: boolean;
}

/** The error a guarded lookup fails a connection with. */
export class BlockedAddressError extends Error {
  readonly code = 'TRIBUTARY_BLOCKED_ADDRESS';
  constructor(readonly hostname: string, reason: string) {
    super(`${hostname}: ${reason}: notifications are not sent there (the platform's allowlist doesn't admit it)`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * Whether a tenant's webhook URL may be called: http or https, no credentials in it (they
 * would be stored and shown with the manifest; secretRef names a secret instead), and a host
 * that is not, and does not resolve to, an address the policy refuses (`localhost` and
 * `*.localhost` are loopback by name, RFC 6761). Every address a name resolves to counts.
 *
 * A name that doesn't resolve now is not refused: it may exist by the time a dead letter
 * comes, and the send-time check (`guardedLookup`) refuses it then if it resolves inwards.
 * So it is with a name that resolves outwards now and inwards later (DNS rebinding).
 */
export async function checkWebhookUrl(url: string, policy: AddressPolicy, options: UrlCheckOptions = {}): Promise<UrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: `${JSON.stringify(url.slice(0, 200))} is not a URL` };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { ok: false, reason: `scheme "${parsed.protocol.slice(0, -1)}" is not http or https` };
  if (parsed.username || parsed.password) return { ok: false, reason: 'credentials in the URL would be stored and shown with the manifest: put the key in a secret and name it with secretRef' };
  const host = hostOf(parsed);
  const literal = literalRefusal(host, policy);
  if (literal !== 'name') return literal === undefined ? { ok: true } : { ok: false, reason: literal };
  if (options.resolve === false) return { ok: true };
  const addresses = await resolveAll(host, options.timeoutMs ?? 2000);
  for (const address of addresses) {
    const refusal = policy.refusal(address);
    if (refusal !== undefined) return { ok: false, reason: `${host} resolves to ${refusal}` };
  }
  return { ok: true };
}

/**
 * A `lookup` for the agent that sends notifications: the same refusal at connect time, for
 * the address actually connected to (a name that resolved outwards when the manifest was
 * applied may resolve inwards now). IP literals never reach a lookup: check the URL with
 * `checkWebhookUrl` before each send as well.
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const byName = literalRefusal(hostname.toLowerCase(), policy);
    if (byName !== undefined && byName !== 'name') {
      callback(new BlockedAddressError(hostname, byName), '', 4);
      return;
    }
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      for (const { address } of addresses) {
        const refusal = policy.refusal(address);
        if (refusal !== undefined) return callback(new BlockedAddressError(hostname, refusal), '', 4);
      }
      if (options.all) return (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '', 4);
      callback(null, first.address, first.family);
    });
  };
}

/** The URL's host without IPv6 brackets or a trailing dot, lowercase. */
function hostOf(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** For an IP literal or a `localhost` name, why it is refused (or undefined: allowed); 'name' for a name to resolve. */
function literalRefusal(host: string, policy: AddressPolicy): string | undefined | 'name' {
  if (isIP(host) !== 0) return policy.refusal(host);
  if (host === 'localhost' || host.endsWith('.localhost')) {
    const refusal = policy.refusal('127.0.0.1');
    return refusal === undefined ? undefined : `${host} is a loopback name`;
  }
  return 'name';
}

/** Every address `host` resolves to now; none when it doesn't resolve in time. */
function resolveAll(host: string, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([]), timeoutMs);
    timer.unref();
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => {
      clearTimeout(timer);
      resolve(err ? [] : addresses.map((a) => a.address));
    });
  });
}
