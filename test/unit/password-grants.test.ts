import { importJWK, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { OAuthError } from '../../functions/oauth/errors.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { API, STRICT_API } from '../helpers/config.ts';
import {
  type MemoryAttemptStore,
  type MemoryRefreshTokenStore,
  type MemoryUserStore,
  memoryServices,
  publicClient,
  type RecordingHasher,
  requestInfo,
} from '../helpers/memory-ports.ts';

const info = requestInfo({ requestId: 'req-1', userAgent: 'test' });

let services: Services;
let users: MemoryUserStore;
let hasher: RecordingHasher;

async function addUser(username: string, password: string, extra: Record<string, unknown> = {}) {
  return users.create({
    realm: 'customers',
    user_id: `id-${username}`,
    session_epoch: 0,
    username,
    username_key: username.toLowerCase(),
    email: `${username}@example.com`,
    email_verified: true,
    name: username.toUpperCase(),
    blocked: false,
    created_at: '2026-01-01T00:00:00.000Z',
    password_hash: `plain:${password}`,
    permissions: {},
    ...extra,
  });
}

const request = (params: Record<string, string>) =>
  handleTokenRequest(
    { grant_type: 'password', client_id: 'mobile-app', ...params },
    publicClient,
    info,
    services,
  );

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('the request succeeded');
}

beforeEach(async () => {
  ({ services, users, hasher } = await memoryServices());
  await addUser('alice', 'secret-password');
});

describe('password grant claims', () => {
  it('builds RFC 9068 access token claims with the fixed clock', async () => {
    const response = await request({ username: 'alice', password: 'secret-password', scope: 'read:orders' });
    const [jwk] = await services.signer.publicJwks();
    const { payload, protectedHeader } = await jwtVerify(
      response.access_token,
      await importJWK({ ...jwk }, 'RS256'),
      {
        currentDate: new Date('2026-11-26T12:00:00.000Z'),
      },
    );
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: jwk?.kid });
    expect(payload).toEqual({
      iss: 'https://auth.example.com/',
      sub: 'customers|id-alice',
      aud: API,
      iat: 1795694400,
      exp: 1795694400 + 900,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      client_id: 'mobile-app',
      azp: 'mobile-app',
      scope: 'read:orders',
      gty: 'password',
      amr: ['pwd'],
    });
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read:orders' });
  });

  it('puts the user permissions into tokens for an API that enforces them', async () => {
    await users.setPermissions(
      'customers',
      'alice',
      STRICT_API,
      ['read:reports'],
      '2026-01-02T00:00:00.000Z',
    );
    const response = await request({
      username: 'alice',
      password: 'secret-password',
      audience: STRICT_API,
      scope: 'read:reports admin:reports',
    });
    expect(response.scope).toBe('read:reports');
    const payload = JSON.parse(
      Buffer.from(response.access_token.split('.')[1] ?? '', 'base64url').toString(),
    );
    expect(payload.permissions).toEqual(['read:reports']);
  });

  it('builds the ID token from profile and email scopes', async () => {
    const response = await request({
      username: 'alice',
      password: 'secret-password',
      scope: 'openid profile email',
    });
    const payload = JSON.parse(Buffer.from(response.id_token?.split('.')[1] ?? '', 'base64url').toString());
    expect(payload).toEqual({
      iss: 'https://auth.example.com/',
      sub: 'customers|id-alice',
      aud: 'mobile-app',
      azp: 'mobile-app',
      iat: 1795694400,
      exp: 1795694400 + 3600,
      auth_time: 1795694400,
      amr: ['pwd'],
      preferred_username: 'alice',
      name: 'ALICE',
      updated_at: 1767225600,
      email: 'alice@example.com',
      email_verified: true,
    });
  });

  it('counts the login and records its time', async () => {
    await request({ username: 'alice', password: 'secret-password' });
    const stored = await users.findByUsername('customers', 'alice');
    expect(stored).toMatchObject({ logins_count: 1, last_login: '2026-11-26T12:00:00.000Z' });
  });
});

describe('password grant refusals', () => {
  it('runs the dummy verify for an unknown user and answers like a wrong password', async () => {
    const unknown = await rejection(request({ username: 'nobody', password: 'secret-password' }));
    expect(hasher.calls).toEqual(['verifyDummy']);
    const wrong = await rejection(request({ username: 'alice', password: 'nope' }));
    expect(hasher.calls).toEqual(['verifyDummy', 'verify']);
    for (const error of [unknown, wrong]) {
      expect([error.status, error.error, error.description]).toEqual([
        400,
        'invalid_grant',
        'Wrong email or password.',
      ]);
    }
    // Which one it was is told once, by the audit event (fu, fp), not again by the error.
    expect([unknown.detail, wrong.detail]).toEqual([undefined, undefined]);
  });

  it('treats an unusable username as unknown without touching the store', async () => {
    const error = await rejection(request({ username: 'x'.repeat(5000), password: 'secret-password' }));
    expect(error.error).toBe('invalid_grant');
    expect(hasher.calls).toEqual(['verifyDummy']);
  });

  it('refuses an over-long password before any hashing', async () => {
    const error = await rejection(request({ username: 'alice', password: 'x'.repeat(1025) }));
    expect(error.error).toBe('invalid_request');
    expect(hasher.calls).toEqual([]);
  });

  it('reveals a block only to the right password', async () => {
    await users.setBlocked('customers', 'alice', true, '2026-01-02T00:00:00.000Z');
    const right = await rejection(request({ username: 'alice', password: 'secret-password' }));
    expect([right.status, right.error]).toEqual([403, 'access_denied']);
    const wrong = await rejection(request({ username: 'alice', password: 'nope' }));
    expect([wrong.status, wrong.error, wrong.description]).toEqual([
      400,
      'invalid_grant',
      'Wrong email or password.',
    ]);
  });

  it('refuses a realm the client does not have, for password-realm and the default realm', async () => {
    const viaRealm = await rejection(
      request({
        grant_type: GRANT_PASSWORD_REALM,
        realm: 'employees',
        username: 'alice',
        password: 'secret-password',
      }),
    );
    expect(viaRealm.error).toBe('unauthorized_client');
    const unknownRealm = await rejection(
      request({
        grant_type: GRANT_PASSWORD_REALM,
        realm: 'nowhere',
        username: 'alice',
        password: 'secret-password',
      }),
    );
    expect(unknownRealm.error).toBe('unauthorized_client');
    expect(hasher.calls).toEqual([]);
  });
});

describe('password grant timing in a realm with imported hashes', () => {
  /** The cost classes a request spent a verify of, real or dummy, in order of class. */
  const spent = () =>
    hasher.calls.map((call) => call.split(' ')[1] ?? 'plain').sort((a, b) => a.localeCompare(b));
  async function failedLogin(username: string) {
    hasher.calls.length = 0;
    expect((await rejection(request({ username, password: 'wrong' }))).error).toBe('invalid_grant');
    return spent();
  }

  const BCRYPT_10 = '$2b$10';
  const PBKDF2 = '$pbkdf2-sha256$i=100000,l=64';
  const OLD_ARGON2 = '$argon2id$v=19$m=4096,t=3,p=1$32';

  it('spends one verify of every class on each failed login, whichever account it names', async () => {
    await users.addHashCostClasses('customers', [BCRYPT_10, PBKDF2], 0);
    await addUser('bob', 'x', { password_hash: `${BCRYPT_10}:bobs password` });
    const everyClass = [BCRYPT_10, PBKDF2, 'plain'];
    expect(await failedLogin('nobody')).toEqual(everyClass);
    expect(await failedLogin('alice')).toEqual(everyClass);
    expect(await failedLogin('bob')).toEqual(everyClass);
    // Only the account's own verify was real: the others spent dummies.
    expect(hasher.calls.filter((call) => call.startsWith('verify '))).toEqual([`verify ${BCRYPT_10}`]);
    // The right password spends nothing more than its own verify.
    hasher.calls.length = 0;
    await request({ username: 'bob', password: 'bobs password' });
    expect(hasher.calls).toEqual([`verify ${BCRYPT_10}`]);
  });

  it('records a class it finds on an account, so the next failed logins spend it', async () => {
    await addUser('carol', 'x', { password_hash: `${OLD_ARGON2}:carols password` });
    expect(await failedLogin('nobody')).toEqual(['plain']);
    expect(await failedLogin('carol')).toEqual([OLD_ARGON2, 'plain']);
    expect((await users.hashCostClasses('customers')).classes).toEqual([OLD_ARGON2]);
    expect(await failedLogin('nobody')).toEqual([OLD_ARGON2, 'plain']);
    expect(await failedLogin('alice')).toEqual([OLD_ARGON2, 'plain']);
  });

  it('records no class past the failed-login budget: it would make every failed login slow', async () => {
    // bcrypt at cost 14: about 1.4 s a verify, past the 1 s budget. Only `users hash-classes` names it.
    await addUser('dave', 'x', { password_hash: '$2b$14:daves password' });
    expect(await failedLogin('dave')).toEqual(['$2b$14', 'plain']);
    expect((await users.hashCostClasses('customers')).classes).toEqual([]);
    expect(await failedLogin('nobody')).toEqual(['plain']);
  });

  it('answers a wrong password as any other when recording its class fails', async () => {
    await addUser('carol', 'x', { password_hash: `${OLD_ARGON2}:carols password` });
    users.addHashCostClasses = () => Promise.reject(new Error('throttled'));
    // A 503 here, where an unknown username gets 400, would tell that the account exists.
    expect(await failedLogin('carol')).toEqual([OLD_ARGON2, 'plain']);
  });
});

describe('password grant with a failing dependency', () => {
  const later = <T>(ms: number, work: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => setTimeout(() => work().then(resolve, reject), ms));

  it('answers a signing failure only after the sign-in write landed, and takes it back', async () => {
    const signIns = services.signIns;
    const record = signIns.record.bind(signIns);
    signIns.record = (signIn) => later(30, () => record(signIn));
    services.signer.sign = () => Promise.reject(new Error('signing is down'));

    await expect(
      request({ username: 'alice', password: 'secret-password', scope: 'offline_access' }),
    ).rejects.toThrow('signing is down');
    // Read at the moment of the answer: the right password's attempt is taken back on both
    // limits, and the session and the login count, written beside the signing, are undone.
    const store = services.attempts as MemoryAttemptStore;
    expect([...store.counters.values()].map((counter) => counter.failures)).toEqual([0]);
    expect([...store.ipDays.values()].map((held) => held.size)).toEqual([0]);
    const tokens = services.refreshTokens as MemoryRefreshTokenStore;
    expect([tokens.tokens.size, tokens.families.size]).toEqual([0, 0]);
    expect((await users.findByUsername('customers', 'alice'))?.logins_count).toBe(0);
  });

  it("answers a failed sign-in write only after the IP's day got its place back", async () => {
    const attempts = services.attempts;
    const release = attempts.releaseIpDay.bind(attempts);
    attempts.releaseIpDay = (ipDay, attempt) => later(30, () => release(ipDay, attempt));
    services.signIns.record = () => Promise.reject(new Error('table is down'));

    await expect(
      request({ username: 'alice', password: 'secret-password', scope: 'offline_access' }),
    ).rejects.toThrow('table is down');
    // Nothing is left to land after the answer.
    const store = attempts as MemoryAttemptStore;
    expect([...store.ipDays.values()].map((held) => held.size)).toEqual([0]);
    const tokens = services.refreshTokens as MemoryRefreshTokenStore;
    expect([tokens.tokens.size, tokens.families.size]).toEqual([0, 0]);
  });
});
