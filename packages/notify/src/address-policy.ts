import { BlockList, isIP } from 'node:net';

/** A platform setting that is not a list of addresses and networks: the service refuses to start with it. */
export class NotifyConfigError extends Error {
  readonly code = 'TRIBUTARY_NOTIFY_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'NotifyConfigError';
  }
}

interface Range {
  readonly network: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
  readonly what: string;
}

/**
 * Where a tenant's webhook must never point: the cluster's own network and the node's
 * (private, loopback, link-local — cloud metadata at 169.254.169.254 and fd00:ec2::254 among
 * them — shared carrier-grade NAT), and addresses that are no destination at all
 * (unspecified, multicast, reserved). A notification is a request the platform makes on a
 * tenant's behalf: pointed inwards, it would reach what only the platform may reach.
 */
const BLOCKED: readonly Range[] = [
  { network: '0.0.0.0', prefix: 8, family: 'ipv4', what: 'an unspecified ("this network") address' },
  { network: '10.0.0.0', prefix: 8, family: 'ipv4', what: 'a private address' },
  { network: '100.64.0.0', prefix: 10, family: 'ipv4', what: 'a shared (carrier-grade NAT) address' },
  { network: '127.0.0.0', prefix: 8, family: 'ipv4', what: 'a loopback address' },
  { network: '169.254.0.0', prefix: 16, family: 'ipv4', what: 'a link-local address (cloud metadata lives there)' },
  { network: '172.16.0.0', prefix: 12, family: 'ipv4', what: 'a private address' },
  { network: '192.0.0.0', prefix: 24, family: 'ipv4', what: 'a reserved address' },
  { network: '192.168.0.0', prefix: 16, family: 'ipv4', what: 'a private address' },
  { network: '198.18.0.0', prefix: 15, family: 'ipv4', what: 'a reserved (benchmarking) address' },
  { network: '224.0.0.0', prefix: 4, family: 'ipv4', what: 'a multicast address' },
  { network: '240.0.0.0', prefix: 4, family: 'ipv4', what: 'a reserved address' },
  { network: '::', prefix: 128, family: 'ipv6', what: 'an unspecified address' },
  { network: '::1', prefix: 128, family: 'ipv6', what: 'a loopback address' },
  { network: 'fc00::', prefix: 7, family: 'ipv6', what: 'a unique local (private) address' },
  { network: 'fe80::', prefix: 10, family: 'ipv6', what: 'a link-local address' },
  { network: 'ff00::', prefix: 8, family: 'ipv6', what: 'a multicast address' },
];

/** NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits: judged by that one. */
const NAT64 = { network: '64:ff9b::', prefix: 96 } as const;

/**
 * Which addresses a webhook may be sent to: any but the blocked ranges, unless the platform's
 * allowlist admits them (`TRIBUTARY_NOTIFY_ALLOW`: addresses and CIDR networks, e.g. an
 * in-cluster receiver, or loopback for tests). IPv4-mapped IPv6 (`::ffff:10.0.0.1`) and NAT64
 * addresses are judged by the IPv4 address they carry.
 */
export class AddressPolicy {
  private readonly blocked: ReadonlyArray<{ readonly list: BlockList; readonly what: string }>;
  private readonly allowed = new BlockList();
  private readonly nat64 = new BlockList();
  /** What the allowlist holds, as written: for logs. */
  readonly allow: readonly string[];

  constructor(allow: readonly string[] = []) {
    this.blocked = BLOCKED.map(({ network, prefix, family, what }) => {
      const list = new BlockList();
      list.addSubnet(network, prefix, family);
      return { list, what };
    });
    this.nat64.addSubnet(NAT64.network, NAT64.prefix, 'ipv6');
    for (const entry of allow) {
      const [address = '', bits, ...rest] = entry.trim().split('/');
      const family = isIP(address);
      const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
      if (family === 0 || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32) || (bits !== undefined && !/^\d+$/.test(bits))) {
        throw new NotifyConfigError(`notification allowlist: ${JSON.stringify(entry)} is not an address or a CIDR network (e.g. 10.20.0.0/16, fd00::/8, 127.0.0.1)`);
      }
      this.allowed.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
    this.allow = allow.map((a) => a.trim());
  }

  /** The allowlist from a comma-separated setting (empty or unset: nothing admitted). */
  static fromSetting(setting: string | undefined): AddressPolicy {
    return new AddressPolicy((setting ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  }

  /** Why a notification must not go to `address` (an IP address), or undefined when it may. */
  refusal(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return `${JSON.stringify(address)} is not an IP address`;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(address, type)) return undefined;
    // BlockList judges an IPv4-mapped IPv6 address by its IPv4 address; NAT64 by hand.
    const carried = type === 'ipv6' && this.nat64.check(address, 'ipv6') ? nat64Carried(address) : undefined;
    if (carried !== undefined) return this.refusal(carried);
    for (const { list, what } of this.blocked) if (list.check(address, type)) return `${address} is ${what}`;
    return undefined;
  }
}

/** The IPv4 address in the last 32 bits of a NAT64 address. */
function nat64Carried(address: string): string | undefined {
  const tail = address.slice(address.lastIndexOf(':') + 1);
  if (isIP(tail) === 4) return tail; // written as 64:ff9b::10.0.0.1
  const groups = address.split(':');
  const low = parseInt(groups[groups.length - 1] || '0', 16);
  const high = parseInt(groups[groups.length - 2] || '0', 16);
  if (!Number.isFinite(low) || !Number.isFinite(high)) return undefined;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}
