import { BlockList, isIP } from 'node:net';
import type { ClientConfig, TenantConfig } from '../../config/schema.ts';
import type { RequestInfo } from '../services.ts';

/**
 * The end user's IP for brute-force protection: the connection's source IP, or Auth0's
 * `auth0-forwarded-for` header from an authenticated confidential client trusted with it (a
 * backend that signs users in on their behalf). From any other client the header is ignored.
 */
export function clientIp(info: RequestInfo, client: ClientConfig): string {
  if (client.trustForwardedFor && client.clientSecretHash !== undefined && info.forwardedFor !== undefined) {
    const forwarded = info.forwardedFor.split(',')[0]?.trim() ?? '';
    if (isIP(forwarded)) return forwarded;
  }
  return info.sourceIp;
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
