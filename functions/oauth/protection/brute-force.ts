import { createHmac, randomUUID } from 'node:crypto';
import type { RealmConfig } from '../../config/schema.ts';
import { OAuthError } from '../errors.ts';
import type { ChargedAttempt, LoginCounter, LoginCounterState } from '../ports.ts';
import type { Services } from '../services.ts';
import { isAllowlisted } from './client-ip.ts';

const DAY = 86_400;

/** The counter one password attempt reads, charges and maybe refunds, with what was read. */
export interface LoginCounters {
  readonly counter: LoginCounter;
  readonly state: LoginCounterState;
  readonly ipDayEnd: number;
}

/** Keyed hash (HMAC-SHA-256): table keys reveal no IP or username, even to someone reading the table. */
function keyedHash(secret: Uint8Array, ...parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\u0000')).digest('base64url');
}

/** The tag of all of one user's counters, so unblocking is one Query. */
export const userCounterRef = (secret: Uint8Array, realm: string, usernameKey: string) =>
  `u#${keyedHash(secret, realm, usernameKey)}`;

/**
 * Reads both limits before any password hashing, so blocked traffic costs no argon2 CPU. The
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
  const ipExempt = isAllowlisted(services.config, ip);
  const counter: LoginCounter = {
    key: `ui#${keyedHash(secret, realm.name, usernameKey, ip)}`,
    userRef: userCounterRef(secret, realm.name, usernameKey),
    day,
    ...(ipExempt ? {} : { ipDay: `ip#${keyedHash(secret, ip)}#${day}` }),
  };
  const state = await services.attempts.read(counter, now);
  return {
    counter,
    state,
    ipDayEnd: (day + 1) * DAY,
  };
}

/** Which limit, if any, refuses this attempt: the IP's daily limit first, then the user's block. */
export function limitReached(counters: LoginCounters, realm: RealmConfig, maxFailuresPerDay: number) {
  // An allowlisted IP has no daily count (no `ipDay`): it reads as 0 and never reaches the limit.
  if (counters.state.ipFailures >= maxFailuresPerDay) return 'limit_mu' as const;
  if (counters.state.consecutiveFailures >= realm.bruteForce.maxConsecutiveFailures)
    return 'limit_wc' as const;
  return undefined;
}

export function tooManyAttempts(limit: 'limit_mu' | 'limit_wc', retryAfterSeconds: number): OAuthError {
  return new OAuthError(
    429,
    'too_many_attempts',
    limit === 'limit_mu'
      ? 'Too many failed login attempts from this IP address; try again later.'
      : 'Too many consecutive failed login attempts for this user from this IP address; try again later.',
    undefined, // the limit_* audit event says which limit refused it
    { 'Retry-After': String(Math.max(1, retryAfterSeconds)) },
  );
}

/**
 * Charges the attempt as a failure on both limits before its password is verified: RFC 6749
 * §4.3.2 asks the endpoint to resist brute force, and counting first fails closed. If the count
 * cannot be written the password is never checked (503), so a store that refuses writes, say under
 * throttling an attacker provoked, cannot hand out uncounted guesses. The charge itself enforces
 * the user/IP limit: undefined when the run reached it meanwhile (a burst of parallel guesses that
 * all read the counter below it), so at most `maxConsecutiveFailures` passwords are ever checked
 * per run. The run lapses `blockSeconds` after its last failure; the daily share lives to the end
 * of its UTC day.
 */
export async function chargeAttempt(
  services: Pick<Services, 'attempts'>,
  realm: RealmConfig,
  counters: LoginCounters,
  now: number,
): Promise<ChargedAttempt | undefined> {
  const failuresUntil = now + realm.bruteForce.blockSeconds;
  const attempt: ChargedAttempt = {
    id: randomUUID(),
    now,
    failuresUntil,
    expiresAt: Math.max(failuresUntil, counters.ipDayEnd),
    maxConsecutiveFailures: realm.bruteForce.maxConsecutiveFailures,
  };
  return (await services.attempts.charge(counters.counter, counters.state, attempt)) ? attempt : undefined;
}

/** The right password: the charge is taken back and the consecutive run ends. */
export function refundAttempt(
  services: Pick<Services, 'attempts'>,
  counters: LoginCounters,
  attempt: ChargedAttempt,
) {
  return services.attempts.refund(counters.counter, attempt);
}
