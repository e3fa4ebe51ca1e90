import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/load.ts';
import { DependencyUnavailableError, type OAuthError } from '../../functions/oauth/errors.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import { readLoginCounters } from '../../functions/oauth/protection/brute-force.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { testConfig } from '../helpers/config.ts';
import {
  type FixedClock,
  type MemoryAttemptStore,
  memoryServices,
  publicClient,
  type RecordingHasher,
  requestInfo,
} from '../helpers/memory-ports.ts';

let services: Services;
let hasher: RecordingHasher;
let attempts: MemoryAttemptStore;
let clock: FixedClock;

const passwordGrant = (password: string, sourceIp = '198.51.100.7', username = 'alice') =>
  handleTokenRequest(
    { grant_type: 'password', client_id: 'mobile-app', username, password },
    publicClient,
    requestInfo({ sourceIp }),
    services,
  );
const login = (password: string, sourceIp?: string, username?: string) =>
  passwordGrant(password, sourceIp, username).then(
    () => 200,
    (error: OAuthError) => error.status,
  );

beforeEach(async () => {
  ({ services, hasher, attempts, clock } = await memoryServices({
    config: parseConfig(
      testConfig({
        realms: [
          { name: 'customers', bruteForce: { maxConsecutiveFailures: 3, blockSeconds: 60 } },
          { name: 'employees' },
        ],
        ipThrottling: { maxFailuresPerDay: 5, allowlist: [] },
      }),
    ),
  }));
  await services.users.create({
    realm: 'customers',
    user_id: 'u1',
    session_epoch: 0,
    username: 'alice',
    username_key: 'alice',
    email_verified: false,
    blocked: false,
    created_at: '2026-01-01T00:00:00.000Z',
    password_hash: 'plain:right password',
    permissions: {},
  });
});

describe('brute-force protection', () => {
  it('refuses a blocked user and IP before any password hashing', async () => {
    for (let i = 0; i < 3; i += 1) expect(await login('wrong')).toBe(400);
    hasher.calls.length = 0;
    expect(await login('right password')).toBe(429);
    expect(hasher.calls).toEqual([]);
  });

  it('lifts the block blockSeconds after the last counted failure, and says when', async () => {
    for (let i = 0; i < 3; i += 1) expect(await login('wrong')).toBe(400);
    const retryAfter = () =>
      passwordGrant('right password').then(
        () => undefined,
        (error: OAuthError) => [error.status, error.headers['Retry-After']],
      );
    expect(await retryAfter()).toEqual([429, '60']);
    clock.set('2026-11-26T12:00:45.000Z');
    expect(await retryAfter()).toEqual([429, '15']);
    clock.set('2026-11-26T12:00:59.000Z');
    expect(await login('right password')).toBe(429);
    clock.set('2026-11-26T12:01:00.000Z');
    expect(await login('right password')).toBe(200);
  });

  it('throttles an IP for the rest of its UTC day, then starts a new window', async () => {
    for (const username of ['a', 'b', 'c', 'd', 'e'])
      expect(await login('wrong', '203.0.113.1', username)).toBe(400);
    expect(await login('right password', '203.0.113.1')).toBe(429);
    clock.set('2026-11-26T23:59:59.000Z');
    expect(await login('right password', '203.0.113.1')).toBe(429);
    clock.set('2026-11-27T00:00:00.000Z');
    expect(await login('right password', '203.0.113.1')).toBe(200);
  });

  it('keeps no raw IP or username in counter keys', async () => {
    await login('wrong', '203.0.113.77', 'alice');
    const stored = [...attempts.counters.keys(), ...attempts.ipDays.keys()].join(' ');
    expect(stored).not.toMatch(/203\.0\.113\.77|alice/);
    expect(stored).toMatch(/^ui#[A-Za-z0-9_-]{43} ip#[A-Za-z0-9_-]{43}#\d+$/);
  });

  it('counts the right password on neither limit, and ends the run', async () => {
    for (let i = 0; i < 2; i += 1) expect(await login('wrong')).toBe(400);
    expect(await login('right password')).toBe(200);
    const realm = services.config.realms[0];
    if (!realm) throw new Error('no realm');
    const now = Math.floor(clock.now() / 1000);
    const counters = await readLoginCounters(services, realm, 'alice', '198.51.100.7', now);
    expect([counters.state.consecutiveFailures, counters.state.ipFailures]).toEqual([0, 2]);
  });

  it('refuses with 429, checking no password, when the run has reached its limit', async () => {
    attempts.charge = async () => ({ charged: false, failuresUntil: Math.floor(clock.now() / 1000) + 60 });
    await expect(passwordGrant('right password')).rejects.toMatchObject({
      status: 429,
      error: 'too_many_attempts',
    });
    expect(hasher.calls).toEqual([]);
  });

  it('fails closed: when the attempt cannot be counted, the password is never checked', async () => {
    const unavailable = new DependencyUnavailableError('dynamodb', 'UpdateItem', new Error('throttled'));
    attempts.charge = async () => {
      throw unavailable;
    };
    await expect(passwordGrant('right password')).rejects.toBe(unavailable);
    expect(hasher.calls).toEqual([]);
  });
});
