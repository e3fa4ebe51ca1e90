import { createHmac } from 'node:crypto';
import type { RealmConfig } from '../config/schema.ts';
import { isAllowlisted } from './client-ip.ts';
import { OAuthError } from './errors.ts';
import type { Services } from './services.ts';

const DAY = 86_400;

/** The counters one password attempt reads and, on failure, advances. */
export interface LoginCounters {
  readonly userIpKey: string;
  readonly userRef: string;
  readonly ipKey: string;
  readonly ipDayEnd: number;
  readonly ipExempt: boolean;
  readonly userIpFailures: number;
  readonly ipFailures: number;
}

/** Keyed hash (HMAC-SHA-256): table keys reveal no IP or username, even to someone reading the table. */
function keyedHash(secret: Uint8Array, ...parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\u0000')).digest('base64url');
}

/** The tag of all of one user's counters, so unblocking is one Query. */
export const userCounterRef = (secret: Uint8Array, realm: string, usernameKey: string) =>
  `u#${keyedHash(secret, realm, usernameKey)}`;

/**
 * Reads both counters before any password hashing, so blocked traffic costs no argon2 CPU. The
 * username counter exists for unknown usernames too: a block reveals nothing about who exists.
 */
export async function readLoginCounters(
  services: Pick<Services, 'config' | 'attempts' | 'counterHashKey'>,
  realm: RealmConfig,
  usernameKey: string,
  ip: string,
  now: number,
): Promise<LoginCounters> {
  const secret = services.counterHashKey;
  const day = Math.floor(now / DAY);
  const userIpKey = `ui#${keyedHash(secret, realm.name, usernameKey, ip)}`;
  const ipKey = `ip#${keyedHash(secret, ip)}#${day}`;
  const ipExempt = isAllowlisted(services.config, ip);
  const [userIpFailures, ipFailures] = await Promise.all([
    services.attempts.failures(userIpKey, now),
    ipExempt ? 0 : services.attempts.failures(ipKey, now),
  ]);
  return {
    userIpKey,
    userRef: userCounterRef(secret, realm.name, usernameKey),
    ipKey,
    ipDayEnd: (day + 1) * DAY,
    ipExempt,
    userIpFailures,
    ipFailures,
  };
}

/** Which limit, if any, refuses this attempt: the IP's daily limit first, then the user's block. */
export function limitReached(counters: LoginCounters, realm: RealmConfig, maxFailuresPerDay: number) {
  if (!counters.ipExempt && counters.ipFailures >= maxFailuresPerDay) return 'limit_mu' as const;
  if (counters.userIpFailures >= realm.bruteForce.maxConsecutiveFailures) return 'limit_wc' as const;
  return undefined;
}

export function tooManyAttempts(limit: 'limit_mu' | 'limit_wc', retryAfterSeconds: number): OAuthError {
  return new OAuthError(
    429,
    'too_many_attempts',
    limit === 'limit_mu'
      ? 'Too many failed login attempts from this IP address; try again later.'
      : 'Too many consecutive failed login attempts for this user from this IP address; try again later.',
    limit,
    { 'Retry-After': String(Math.max(1, retryAfterSeconds)) },
  );
}

/**
 * Counts a failed attempt on both counters. The user/IP counter lives `blockSeconds` past the last
 * failure, so consecutive failures block for that long; the IP counter lives to the end of its UTC day.
 */
export async function countFailure(
  services: Services,
  realm: RealmConfig,
  counters: LoginCounters,
  now: number,
) {
  await Promise.all([
    services.attempts.addFailure(
      counters.userIpKey,
      now + realm.bruteForce.blockSeconds,
      now,
      counters.userRef,
    ),
    counters.ipExempt ? undefined : services.attempts.addFailure(counters.ipKey, counters.ipDayEnd, now),
  ]);
}

/** A success resets the consecutive count (no write when there was nothing to reset). */
export async function clearAfterSuccess(services: Services, counters: LoginCounters) {
  if (counters.userIpFailures > 0) await services.attempts.reset(counters.userIpKey);
}
