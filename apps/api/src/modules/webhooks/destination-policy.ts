import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a webhook may be delivered to (SSRF defence). Refused unless allowed by WEBHOOK_ALLOW_PRIVATE:
 * unspecified, loopback, RFC 1918 private, carrier-grade NAT (RFC 6598), link-local (incl. cloud metadata
 * 169.254.169.254), IETF protocol assignments, benchmarking (RFC 2544), multicast, reserved and broadcast IPv4;
 * unspecified, loopback, unique-local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10) and multicast
 * IPv6. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry. Ranges: IANA IPv4/IPv6
 * Special-Purpose Address Registries.
 */
const REFUSED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const REFUSED_V6: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

export type PrivateAllowance = 'off' | 'on' | string[];

/** `a.b.c.d` carried in an IPv4-mapped (::ffff:a.b.c.d / ::ffff:xxxx:xxxx) or NAT64 (64:ff9b::/96) address. */
function embeddedV4(address: string): string | null {
  // WHATWG URL serialises IPv6 canonically (compressed, lower case; the mapped form as ::ffff:xxxx:xxxx).
  const lower = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

export class DestinationPolicy {
  private readonly refused = new BlockList();
  private readonly allowed = new BlockList();
  private readonly allowAll: boolean;

  /** `allow`: 'off' (public addresses only), 'on' (anything), or CIDRs that are allowed although private. */
  constructor(allow: PrivateAllowance) {
    for (const [a, p] of REFUSED_V4) this.refused.addSubnet(a, p, 'ipv4');
    for (const [a, p] of REFUSED_V6) this.refused.addSubnet(a, p, 'ipv6');
    this.allowAll = allow === 'on';
    if (Array.isArray(allow)) {
      for (const cidr of allow) {
        const [a, p] = cidr.split('/');
        const family = isIP(a) === 6 ? 'ipv6' : 'ipv4';
        this.allowed.addSubnet(a, p === undefined ? (family === 'ipv6' ? 128 : 32) : Number(p), family);
      }
    }
  }

  /** Why `address` (an IP literal) may not be contacted, or null when it may. */
  refusal(address: string): string | null {
    if (this.allowAll) return null;
    const family = isIP(address);
    if (family === 0) return `${address} is not an IP address`;
    const v4 = family === 6 ? embeddedV4(address) : null;
    const [a, f] = v4 ? [v4, 'ipv4' as const] : [address, family === 6 ? ('ipv6' as const) : ('ipv4' as const)];
    if (!this.refused.check(a, f)) return null;
    if (this.allowed.check(a, f)) return null;
    return `${address} is a private, loopback, link-local or otherwise non-public address (set WEBHOOK_ALLOW_PRIVATE to allow it)`;
  }

  /** Every address `hostname` resolves to, refused as a whole when any one of them is refused. */
  async resolve(hostname: string): Promise<LookupAddress[]> {
    const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    const addresses: LookupAddress[] = isIP(host)
      ? [{ address: host, family: isIP(host) }]
      : await new Promise((resolve, reject) =>
          dnsLookup(host, { all: true }, (err, list) => (err ? reject(err) : resolve(list))),
        );
    if (!addresses.length) throw new Error(`${host} has no address`);
    for (const a of addresses) {
      const why = this.refusal(a.address);
      if (why) throw new DestinationRefused(why);
    }
    return addresses;
  }

  /**
   * A `lookup` for node:http that resolves, checks every address and connects only to checked ones: the address
   * judged is the address connected to, so a DNS answer that changes between the check and the connection
   * (DNS rebinding) cannot slip through.
   */
  lookup(): (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => void {
    return (hostname, options, callback) => {
      this.resolve(hostname).then(
        (list) => (options?.all ? callback(null, list) : callback(null, list[0].address, list[0].family)),
        (err: unknown) => callback(err),
      );
    };
  }
}

/** A destination the policy refuses; the attempt fails like a network error (and is retried: the DNS answer may change). */
export class DestinationRefused extends Error {}
