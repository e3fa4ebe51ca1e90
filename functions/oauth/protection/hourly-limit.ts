import { randomBytes } from 'node:crypto';
import { OAuthError } from '../errors.ts';
import type { Services } from '../services.ts';
import { keyedHash } from './brute-force.ts';
import { countedIp, isAllowlisted } from './client-ip.ts';

const HOUR = 3600;

/** What an hourly limit counts: sign-ups per IP, reset mails per IP or per address. */
export type HourlyLimitPurpose = 'signup-ip' | 'reset-ip' | 'reset-address';

/** Counts per IP: an IPv6 address under its /64 (countedIp); an allowlisted IP is not counted. */
export function ipSubject(services: Pick<Services, 'config'>, ip: string): string | undefined {
  return isAllowlisted(services.config, ip) ? undefined : countedIp(ip);
}

/**
 * Takes one request of `subject`'s hour (a fixed UTC hour) under `purpose`: undefined when it is
 * allowed, otherwise the seconds until the hour ends (for `Retry-After`). The subject is keyed with
 * the counters' secret, so the table holds no IP or address. `subject` undefined: not limited.
 */
export async function takeHourly(
  services: Pick<Services, 'limiter' | 'counterHashKey' | 'clock'>,
  purpose: HourlyLimitPurpose,
  subject: string | undefined,
  limit: number,
): Promise<number | undefined> {
  if (subject === undefined) return undefined;
  const now = Math.floor(services.clock.now() / 1000);
  const endsAt = (Math.floor(now / HOUR) + 1) * HOUR;
  const taken = await services.limiter.take(keyedHash(services.counterHashKey, purpose, subject), {
    endsAt,
    limit,
    id: randomBytes(12).toString('base64url'),
  });
  return taken ? undefined : endsAt - now;
}

/** 429 `too_many_attempts` (the code Auth0 clients know) with `Retry-After` (RFC 9110 §10.2.3). */
export const tooManyRequests = (description: string, retryAfterSeconds: number) =>
  new OAuthError(429, 'too_many_attempts', description, undefined, {
    'Retry-After': String(Math.max(1, retryAfterSeconds)),
  });
