import { BlockList, isIP } from 'node:net';
import type { ClientConfig, TenantConfig } from '../../config/schema.ts';
import { invalidRequest } from '../errors.ts';
import type { RequestInfo } from '../services.ts';

/**
 * The end user's IP for brute-force protection and the audit log, in one canonical form: the
 * connection's source IP, or Auth0's `auth0-forwarded-for` header from an authenticated
 * confidential client trusted with it (a backend that signs users in on their behalf). From any
 * other client the header is ignored. From a trusted client it must be exactly one IP address:
 * a list's leftmost entry is whatever the backend's own caller wrote, and falling back to the
 * backend's IP would put all its users behind one counter. Endpoints call it before any store
 * call, so a refusal charges nothing.
 */
export function clientIp(info: RequestInfo, client: ClientConfig): string {
  if (client.trustForwardedFor && client.clientSecretHash !== undefined && info.forwardedFor !== undefined) {
    const forwarded = canonicalIp(info.forwardedFor.trim());
    if (forwarded === undefined) throw invalidRequest('auth0-forwarded-for must be a single IP address');
    return forwarded;
  }
  return canonicalIp(info.sourceIp) ?? info.sourceIp;
}

/**
 * One spelling per address, so that one address is one counter: IPv4 in dotted decimal, an
 * IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, what a dual-stack socket reports) as the IPv4
 * address it is, other IPv6 in the RFC 5952 form (lower case, zeros compressed). Undefined for
 * anything but one address (a list, a zone id, a CIDR block, a name).
 */
export function canonicalIp(text: string): string | undefined {
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6 || text.includes('%')) return undefined;
  // The WHATWG URL serializer writes IPv6 hosts in the RFC 5952 compressed form.
  const canonical = new URL(`http://[${text}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [Number.parseInt(mapped[1] ?? '', 16), Number.parseInt(mapped[2] ?? '', 16)];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/**
 * The key the IP limits count under: an IPv4 address, or an IPv6 address's /64. One subscriber
 * (a home, a phone) gets a whole /64 and picks addresses in it at will (RFC 4291 §2.5.1,
 * RFC 8981), so counting single IPv6 addresses would give one attacker 2^64 fresh counters.
 */
export function countedIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.split('::');
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    const rest = tail === '' ? [] : tail.split(':');
    groups.push(...Array<string>(8 - groups.length - rest.length).fill('0'), ...rest);
  }
  return `${canonicalIp(`${groups.slice(0, 4).join(':')}::`)}/64`;
}

const allowlists = new WeakMap<TenantConfig, BlockList>();

/** True when the IP is in `ipThrottling.allowlist` (built once per config). */
export function isAllowlisted(config: TenantConfig, ip: string): boolean {
  let list = allowlists.get(config);
  if (!list) {
    list = new BlockList();
    for (const entry of config.ipThrottling.allowlist) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(bits), family);
    }
    allowlists.set(config, list);
  }
  const family = isIP(ip);
  return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}
