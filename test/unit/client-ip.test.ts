import { beforeEach, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import type { OAuthError } from '../../functions/oauth/errors.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import { canonicalIp, countedIp } from '../../functions/oauth/protection/client-ip.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { BACKOFFICE_SECRET } from '../helpers/config.ts';
import {
  type MemoryAttemptStore,
  memoryServices,
  type RecordingHasher,
  requestInfo,
} from '../helpers/memory-ports.ts';

describe('the IP a login counts under', () => {
  it('spells each address one way: IPv4-mapped as IPv4, IPv6 compressed in lower case', () => {
    expect(canonicalIp('203.0.113.7')).toBe('203.0.113.7');
    expect(canonicalIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(canonicalIp('::FFFF:CB00:7107')).toBe('203.0.113.7');
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
  });

  it('is not an address when it is a list, a block, a zone, a name or padded', () => {
    for (const text of [
      '203.0.113.7, 198.51.100.1',
      '203.0.113.0/24',
      'fe80::1%eth0',
      'localhost',
      '',
      '01.2.3.4',
    ])
      expect(canonicalIp(text), text).toBeUndefined();
  });

  it('counts IPv6 by its /64, IPv4 by the address', () => {
    expect(countedIp('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(countedIp('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(countedIp('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(countedIp('203.0.113.7')).toBe('203.0.113.7');
  });
});

describe('auth0-forwarded-for from a trusted backend', () => {
  let services: Services;
  let attempts: MemoryAttemptStore;
  let hasher: RecordingHasher;
  beforeEach(async () => {
    ({ services, attempts, hasher } = await memoryServices());
  });
  const login = (forwardedFor: string | undefined, sourceIp = '198.51.100.200') =>
    handleTokenRequest(
      {
        grant_type: GRANT_PASSWORD_REALM,
        realm: 'employees',
        client_id: 'backoffice',
        username: 'nobody',
        password: 'wrong password',
      },
      { clientId: 'backoffice', clientSecret: BACKOFFICE_SECRET, method: 'client_secret_post' },
      requestInfo({ sourceIp, forwardedFor }),
      services,
    ).then(
      () => ({ status: 200, description: '' }),
      (error: OAuthError) => ({ status: error.status, description: error.description }),
    );
  const ipDays = () => [...attempts.ipDays.values()].map((held) => held.size);

  it('refuses anything but exactly one IP address with 400, charging nothing and checking nothing', async () => {
    for (const header of ['203.0.113.7, 198.51.100.1', 'not-an-ip', '203.0.113.0/24', '']) {
      expect(await login(header), header).toEqual({
        status: 400,
        description: 'auth0-forwarded-for must be a single IP address',
      });
    }
    expect([attempts.counters.size, ipDays(), hasher.calls]).toEqual([0, [], []]);
  });

  it('counts one address under one counter however it is written', async () => {
    expect((await login('203.0.113.7')).status).toBe(400);
    expect((await login('::ffff:203.0.113.7')).status).toBe(400);
    expect((await login(' ::FFFF:CB00:7107 ')).status).toBe(400);
    expect([attempts.counters.size, ipDays()]).toEqual([1, [3]]);
  });

  it('counts the addresses of one IPv6 /64 together, and another /64 apart', async () => {
    await login('2001:db8:1:2::1');
    await login('2001:db8:1:2:dead:beef:0:1');
    await login('2001:DB8:1:3::1');
    expect(ipDays().sort()).toEqual([1, 2]);
  });

  it('counts the connection source IP in the same canonical form', async () => {
    await login(undefined, '::ffff:198.51.100.9');
    await login(undefined, '198.51.100.9');
    expect(ipDays()).toEqual([2]);
  });
});
