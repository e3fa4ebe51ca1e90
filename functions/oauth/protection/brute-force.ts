import { createHmac, randomBytes } from 'node:crypto';
import type { RealmConfig } from '../../config/schema.ts';
import { allLanded } from '../all-landed.ts';
import { OAuthError } from '../errors.ts';
import type { ChargedAttempt, LoginCounter, LoginCounterState } from '../ports.ts';
import type { Services } from '../services.ts';
import { countedIp, isAllowlisted } from './client-ip.ts';

const DAY = 86_400;

/** The counters one password attempt reads, charges and maybe refunds, with what was read. */
export interface LoginCounters {
  readonly counter: LoginCounter;
  readonly state: LoginCounterState;
  /** End of the UTC day whose count the IP limit reads: when a refused IP may try again. */
  readonly ipDayEnd: number;
}

/** Keyed hash (HMAC-SHA-256): table keys reveal no IP or username, even to someone reading the table. */
export function keyedHash(secret: Uint8Array, ...parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\u0000')).digest('base64url');
}

/** The tag of all of one user's counters, so unblocking is one Query. */
export const userCounterRef = (secret: Uint8Array, realm: string, usernameKey: string) =>
  `u#${keyedHash(secret, realm, usernameKey)}`;

/**
 * Reads both limits before any password hashing, so blocked traffic costs no argon2 CPU. The
 * username counter exists for unknown usernames too: a block reveals nothing about who exists.
 * `ip` is the client's (clientIp); an IPv6 address counts under its /64 (countedIp).
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
  const ipDayEnd = (day + 1) * DAY;
  const counted = countedIp(ip);
  const counter: LoginCounter = {
    key: `ui#${keyedHash(secret, realm.name, usernameKey, counted)}`,
    userRef: userCounterRef(secret, realm.name, usernameKey),
    ...(isAllowlisted(services.config, ip)
      ? {}
      : { ipDay: { key: `ip#${keyedHash(secret, counted)}#${day}`, endsAt: ipDayEnd } }),
  };
  const state = await services.attempts.read(counter, now);
  return { counter, state, ipDayEnd };
}

export type LimitReached = 'limit_mu' | 'limit_wc';

/** Which limit, if any, refuses this attempt: the IP's daily limit first, then the user's block. */
export function limitReached(
  counters: LoginCounters,
  realm: RealmConfig,
  maxFailuresPerDay: number,
): LimitReached | undefined {
  // An allowlisted IP has no daily count (no `ipDay`): it reads as 0 and never reaches the limit.
  if (counters.state.ipFailures >= maxFailuresPerDay) return 'limit_mu';
  if (counters.state.consecutiveFailures >= realm.bruteForce.maxConsecutiveFailures) return 'limit_wc';
  return undefined;
}

export function tooManyAttempts(limit: LimitReached, retryAfterSeconds: number): OAuthError {
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

const landed = (result: PromiseSettledResult<boolean>) => result.status === 'fulfilled' && result.value;
/** A write that failed may still have landed (its answer lost): taking it back is a no-op if not. */
const mayHaveLanded = (result: PromiseSettledResult<boolean>) => result.status === 'rejected' || result.value;

/**
 * Charges the attempt as a failure on both limits before its password is verified: RFC 6749
 * §4.3.2 asks the endpoint to resist brute force, and counting first fails closed. If a count
 * cannot be written the password is never checked (503), so a store that refuses writes, say under
 * throttling an attacker provoked, cannot hand out uncounted guesses.
 *
 * The two charges are written at the same time, each a conditional write that is both the check
 * and the count: the user/IP run takes it only below `maxConsecutiveFailures`, the IP's day only
 * below `maxFailuresPerDay`. So however many guesses arrive at once, at most that many passwords
 * are checked. When one limit refuses (or a write fails), what may have landed is taken back,
 * so a refused attempt counts on neither. The run lapses `blockSeconds` after its last failure; the
 * IP's day at the end of its UTC day.
 */
export async function chargeAttempt(
  services: Pick<Services, 'attempts' | 'config'>,
  realm: RealmConfig,
  counters: LoginCounters,
  now: number,
): Promise<ChargedAttempt | LimitReached> {
  const { attempts } = services;
  const { counter, state } = counters;
  const attempt: ChargedAttempt = {
    // 96 random bits, short: the IP's day keeps the ids of its attempts (one per failure).
    id: randomBytes(12).toString('base64url'),
    now,
    failuresUntil: now + realm.bruteForce.blockSeconds,
    maxConsecutiveFailures: realm.bruteForce.maxConsecutiveFailures,
    maxFailuresPerDay: services.config.ipThrottling.maxFailuresPerDay,
  };
  const ipDay = counter.ipDay;
  const [charged, reserved] = await Promise.allSettled([
    attempts.charge(counter, state, attempt),
    ipDay === undefined ? true : attempts.reserveIpDay(ipDay, attempt),
  ]);
  if (landed(charged) && landed(reserved)) return attempt;
  await allLanded([
    mayHaveLanded(charged) ? attempts.withdraw(counter, attempt) : undefined,
    mayHaveLanded(reserved) && ipDay !== undefined ? attempts.releaseIpDay(ipDay, attempt) : undefined,
  ]);
  if (charged.status === 'rejected') throw charged.reason;
  if (reserved.status === 'rejected') throw reserved.reason;
  return reserved.value ? 'limit_wc' : 'limit_mu';
}

/**
 * The right password: the run ends and the IP's day gets its reservation back, since the daily
 * limit counts failures (a NAT's many users who sign in at their first try never use it up).
 */
export async function refundAttempt(
  services: Pick<Services, 'attempts'>,
  counters: LoginCounters,
  attempt: ChargedAttempt,
): Promise<void> {
  const { counter } = counters;
  await allLanded([
    services.attempts.refund(counter, attempt),
    counter.ipDay === undefined ? undefined : services.attempts.releaseIpDay(counter.ipDay, attempt),
  ]);
}
