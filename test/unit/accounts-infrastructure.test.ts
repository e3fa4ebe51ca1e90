import { describe, expect, it } from 'vitest';
import { newTicket, ticketHash, wellFormedTicket } from '../../functions/oauth/accounts/tickets.ts';
import { ipSubject, takeHourly } from '../../functions/oauth/protection/hourly-limit.ts';
import { MemoryRateLimiter, memoryServices } from '../helpers/memory-ports.ts';

const user = { realm: 'customers', user_id: 'u1', username_key: 'alice', email: 'alice@example.com' };

describe('tickets', () => {
  it('are 256 random bits in base64url, found by their SHA-256 and bound to user and address', () => {
    const { value, record } = newTicket('verify-email', user, 1000, 5000);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(wellFormedTicket(value)).toBe(true);
    expect(record).toEqual({
      token_hash: ticketHash(value),
      purpose: 'verify-email',
      realm: 'customers',
      user_id: 'u1',
      username_key: 'alice',
      email: 'alice@example.com',
      created_at: 5000,
      expires_at: 6000,
    });
    expect(newTicket('reset-password', user, 1000, 5000, 'fp').record.bound_to).toBe('fp');
    expect(newTicket('verify-email', user, 1000, 5000).value).not.toBe(value);
  });

  it('are only for a user with an address; malformed values are never looked up', () => {
    expect(() => newTicket('verify-email', { ...user, email: undefined }, 1000, 0)).toThrow();
    expect(wellFormedTicket(undefined)).toBe(false);
    expect(wellFormedTicket('short')).toBe(false);
    expect(wellFormedTicket(`${'A'.repeat(42)}=`)).toBe(false);
  });
});

describe('hourly limits', () => {
  it('allow `limit` requests per subject and hour, then say how long until the hour ends', async () => {
    const { services, clock } = await memoryServices();
    clock.set('2030-01-01T10:59:00Z');
    const take = (subject: string) => takeHourly(services, 'signup-ip', subject, 2);
    expect([await take('198.51.100.1'), await take('198.51.100.1')]).toEqual([undefined, undefined]);
    expect(await take('198.51.100.1')).toBe(60);
    expect(await take('198.51.100.2')).toBeUndefined();
    expect(await takeHourly(services, 'reset-ip', '198.51.100.1', 2)).toBeUndefined();
    clock.set('2030-01-01T11:00:00Z');
    expect(await take('198.51.100.1')).toBeUndefined();
  });

  it('keep no IP in the clear, count IPv6 per /64 and leave allowlisted IPs alone', async () => {
    const limiter = new MemoryRateLimiter();
    const { services } = await memoryServices({ limiter });
    await takeHourly(services, 'signup-ip', '198.51.100.7', 5);
    expect([...limiter.windows.keys()].join()).not.toContain('198.51.100.7');
    expect(ipSubject(services, '2001:db8:1:2:3:4:5:6')).toBe(ipSubject(services, '2001:db8:1:2:ffff::1'));
    expect(ipSubject(services, '192.0.2.10')).toBeUndefined(); // the test config's allowlist
    expect(await takeHourly(services, 'signup-ip', undefined, 1)).toBeUndefined();
  });
});
