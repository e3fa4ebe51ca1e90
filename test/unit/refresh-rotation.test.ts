import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSealer } from '../../functions/adapters/sealing/local-sealer.ts';
import { LocalSigner } from '../../functions/adapters/signing/local-signer.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { memoryReplayStore } from '../../functions/oauth/dpop/resource-server.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import type { RefreshFamily, Signer } from '../../functions/oauth/ports.ts';
import type { Services } from '../../functions/oauth/services.ts';
import {
  familySecretHash,
  hashRefreshToken,
  newFamilySecret,
  newRefreshTokenValue,
  parseRefreshToken,
} from '../../functions/oauth/sessions/refresh-token-format.ts';
import { lookUpRefreshToken, unsealSuccessor } from '../../functions/oauth/sessions/refresh-tokens.ts';
import type { TokenResponse } from '../../functions/oauth/tokens.ts';
import { BACKOFFICE_SECRET, testConfig } from '../helpers/config.ts';
import {
  FixedClock,
  MemoryAttemptStore,
  MemoryRateLimiter,
  MemoryRefreshTokenStore,
  MemorySignInStore,
  MemoryTicketStore,
  MemoryUserStore,
  publicClient,
  RecordingHasher,
  RecordingMailer,
  requestInfo,
  unreachableMfaStore,
} from '../helpers/memory-ports.ts';

const ISSUER = 'https://auth.example.com/';
const PASSWORD = 'correct horse battery staple';
const DAY = 86_400;

let keyDir: string;
let signer: Signer;
beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'passgate-unit-'));
  signer = await LocalSigner.fromDataDir(keyDir);
});
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

async function setup(
  lifetimes: { absoluteTtlSeconds?: number; idleTtlSeconds?: number; reuseLeewaySeconds?: number } = {},
) {
  const clock = new FixedClock();
  const users = new MemoryUserStore();
  const store = new MemoryRefreshTokenStore(users);
  const attempts = new MemoryAttemptStore();
  const lines: LogLine[] = [];
  const services: Services = {
    config: parseConfig(
      testConfig({
        refreshTokens: {
          absoluteTtlSeconds: 30 * DAY,
          idleTtlSeconds: 15 * DAY,
          reuseLeewaySeconds: 0,
          ...lifetimes,
        },
      }),
    ),
    users,
    refreshTokens: store,
    attempts,
    signIns: new MemorySignInStore(users, store, attempts),
    dpopProofs: memoryReplayStore(),
    counterHashKey: Buffer.alloc(32, 7),
    hasher: new RecordingHasher(),
    mfa: unreachableMfaStore,
    sealer: new LocalSealer(Buffer.alloc(32, 5)),
    signer,
    mailer: new RecordingMailer(),
    tickets: new MemoryTicketStore(),
    limiter: new MemoryRateLimiter(),
    clock,
    logger: { log: (level, message, fields) => lines.push({ level, message, ...fields }) },
    issuer: ISSUER,
  };
  const info = requestInfo({ issuer: ISSUER, requestId: 'request-1' });
  const user = await users.create({
    realm: 'customers',
    user_id: 'a11ce0000000000000000000',
    session_epoch: 0,
    username: 'alice',
    username_key: 'alice',
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice',
    blocked: false,
    created_at: new Date(clock.now()).toISOString(),
    password_hash: `plain:${PASSWORD}`,
    permissions: {},
  });
  /** `jkt`: the DPoP key the HTTP layer found a valid proof of. */
  const token = (params: Record<string, string>, clientId = 'mobile-app', jkt?: string) => {
    const clientSecret = clientId === 'backoffice' ? BACKOFFICE_SECRET : undefined;
    const method = clientSecret ? 'client_secret_post' : 'none';
    const proven = jkt === undefined ? info : { ...info, dpop: { jkt } };
    return handleTokenRequest(params, { clientId, clientSecret, method }, proven, services);
  };
  const login = async (scope = 'openid profile offline_access read:orders', jkt?: string) =>
    token({ grant_type: 'password', username: 'alice', password: PASSWORD, scope }, 'mobile-app', jkt);
  const refresh = (
    refreshToken: string,
    extra: Record<string, string> = {},
    clientId?: string,
    jkt?: string,
  ) => token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, clientId, jkt);
  const familyOf = (refreshToken: string) => {
    const parsed = parseRefreshToken(refreshToken);
    const familyId =
      parsed?.format === 'family'
        ? parsed.familyId
        : store.tokens.get(hashRefreshToken(refreshToken))?.family_id;
    return familyId === undefined ? undefined : store.families.get(familyId);
  };
  return { clock, users, store, lines, services, user, login, refresh, familyOf };
}

/** The names of the store reads made from now on, in order. */
function recordReads(store: MemoryRefreshTokenStore, users: MemoryUserStore): string[] {
  const reads: string[] = [];
  store.fail = (operation) => void reads.push(operation);
  const findByUsername = users.findByUsername.bind(users);
  users.findByUsername = (realm, key) => {
    reads.push('findByUsername');
    return findByUsername(realm, key);
  };
  return reads;
}

/** Refreshes must be refused with one public message; the reason is only in the private detail. */
async function expectRefused(promise: Promise<unknown>, detail: RegExp) {
  await expect(promise).rejects.toMatchObject({
    status: 400,
    error: 'invalid_grant',
    description: 'Unknown or invalid refresh token.',
    detail: expect.stringMatching(detail),
  });
}

const refreshTokenOf = (response: TokenResponse) => {
  expect(response.refresh_token).toMatch(/^[A-Za-z0-9_-]{100,}$/);
  expect(parseRefreshToken(response.refresh_token as string)?.format).toBe('family');
  return response.refresh_token as string;
};

/** A token of a family with that family's secret, as the server would issue it, but never issued. */
const neverIssued = (
  family: { family_id: string; realm: string; username_key: string },
  secret: Uint8Array = newFamilySecret(),
) => newRefreshTokenValue(Buffer.alloc(32, 7), { ...family, secret });

describe('refresh token issuance', () => {
  it('issues a refresh token only with offline_access, stored only as its SHA-256 hash', async () => {
    const { login, store, familyOf } = await setup();
    expect((await login('openid read:orders')).refresh_token).toBeUndefined();
    const value = refreshTokenOf(await login());
    // One item: the family, which holds the token's hash; no record per token.
    expect([store.tokens.size, store.families.size]).toEqual([0, 1]);
    expect(familyOf(value)?.current).toBe(hashRefreshToken(value));
    expect(JSON.stringify([...store.families.values()])).not.toContain(value);
  });

  it("shows neither the username nor the family's secret hash in the value", async () => {
    const { login, familyOf } = await setup();
    const value = refreshTokenOf(await login());
    const bytes = Buffer.from(value, 'base64url');
    expect(bytes.includes(Buffer.from('alice'))).toBe(false);
    expect(bytes.includes(Buffer.from('customers'))).toBe(false);
    expect(value).not.toContain(familyOf(value)?.secret_hash);
  });

  it('issues none where the API does not allow offline access', async () => {
    const { login, services } = await setup();
    const strict = {
      ...services,
      config: { ...services.config, defaultAudience: 'https://strict.example.com/' },
    };
    const response = await handleTokenRequest(
      { grant_type: 'password', username: 'alice', password: PASSWORD, scope: 'offline_access' },
      publicClient,
      requestInfo({ issuer: ISSUER }),
      strict,
    );
    expect(response.refresh_token).toBeUndefined();
    expect((await login()).refresh_token).toBeDefined();
  });
});

describe('refresh_token grant: rotation', () => {
  it('rotates at every use and issues an access token with gty refresh_token', async () => {
    const { login, refresh, clock } = await setup();
    const first = refreshTokenOf(await login());
    clock.advance(60);
    const response = await refresh(first);
    const second = refreshTokenOf(response);
    expect(second).not.toBe(first);
    expect(response.scope).toBe('openid profile offline_access read:orders');
    expect(decodeJwt(response.access_token)).toMatchObject({
      gty: 'refresh_token',
      sub: 'customers|a11ce0000000000000000000',
    });
    const idToken = decodeJwt(response.id_token as string);
    expect(idToken.auth_time).toBe(Number(idToken.iat) - 60); // the original login, not the refresh
    expect(refreshTokenOf(await refresh(second))).not.toBe(second);
  });

  it('narrows the access token scope on request without narrowing the refresh token', async () => {
    const { login, refresh } = await setup();
    const narrowed = await refresh(refreshTokenOf(await login()), { scope: 'read:orders' });
    // The answer carries a rotated refresh token: offline_access is granted (RFC 6749 §5.1).
    expect(narrowed.scope).toBe('read:orders offline_access');
    expect(narrowed.id_token).toBeUndefined();
    const full = await refresh(refreshTokenOf(narrowed));
    expect(full.scope).toBe('openid profile offline_access read:orders');
  });

  it('refuses a scope beyond the one originally granted with invalid_scope (RFC 6749 §6)', async () => {
    const { login, refresh } = await setup();
    const value = refreshTokenOf(await login());
    await expect(refresh(value, { scope: 'read:orders write:orders' })).rejects.toMatchObject({
      status: 400,
      error: 'invalid_scope',
    });
    expect((await refresh(value)).refresh_token).toBeDefined(); // the refused request changed nothing
  });

  it('refuses another audience than the one the token was issued for', async () => {
    const { login, refresh } = await setup();
    const value = refreshTokenOf(await login());
    await expect(refresh(value, { audience: 'https://strict.example.com/' })).rejects.toMatchObject({
      error: 'invalid_request',
    });
    expect((await refresh(value, { audience: 'https://api.example.com/' })).refresh_token).toBeDefined();
  });

  it.each([
    ['too short', 'abc'],
    ['not base64url', `${'a'.repeat(42)}!`],
    ['unknown', 'A'.repeat(43)],
  ])('refuses an %s refresh token', async (_name, value) => {
    const { refresh } = await setup();
    await expectRefused(refresh(value), /unknown/);
  });

  it("refuses another client's token and changes nothing", async () => {
    const { login, refresh, familyOf } = await setup();
    const value = refreshTokenOf(await login());
    const before = familyOf(value);
    await expectRefused(refresh(value, {}, 'backoffice'), /of client mobile-app/);
    expect(familyOf(value)).toEqual(before);
    expect((await refresh(value)).refresh_token).toBeDefined();
  });

  it('reads as much for a token never issued as for a stored one, so the time tells nothing', async () => {
    const { login, refresh, store, users } = await setup();
    const value = refreshTokenOf(await login());
    const reads = recordReads(store, users);
    await expectRefused(refresh(value, {}, 'backoffice'), /of client mobile-app/);
    const stored = reads.splice(0).sort();
    const unknownFamily = { family_id: 'AAAAAAAAAAAAAAAAAAAAAA', realm: 'customers', username_key: 'nobody' };
    await expectRefused(refresh(neverIssued(unknownFamily), {}, 'backoffice'), /unknown refresh token/);
    // The same read: the family and the user in one call.
    expect(reads.sort()).toEqual(stored);
    expect(stored).toEqual(['findFamilyAndUser']);
  });

  it('refreshes a token whose user key was sealed under another server secret, reading the user after the family', async () => {
    const { login, services } = await setup();
    const value = refreshTokenOf(await login());
    const reads: string[] = [];
    const findByUsername = services.users.findByUsername.bind(services.users);
    const findFamilyAndUser = services.refreshTokens.findFamilyAndUser.bind(services.refreshTokens);
    const rekeyed = {
      ...services,
      counterHashKey: Buffer.alloc(32, 9),
      users: Object.assign(Object.create(services.users), {
        findByUsername: (realm: string, key: string) => {
          reads.push(`${realm}/${key}`);
          return findByUsername(realm, key);
        },
      }),
      refreshTokens: Object.assign(Object.create(services.refreshTokens), {
        findFamilyAndUser: (familyId: string, user: { realm: string; username_key: string }) => {
          reads.push(`${user.realm}/${user.username_key}`);
          return findFamilyAndUser(familyId, user);
        },
      }),
    };
    const response = await handleTokenRequest(
      { grant_type: 'refresh_token', refresh_token: value },
      publicClient,
      requestInfo({ issuer: ISSUER }),
      rekeyed,
    );
    expect(refreshTokenOf(response)).not.toBe(value);
    // First the sealed hint, which no longer opens (a key no user has), then the family's user.
    expect(reads).toEqual([expect.stringMatching(/^#absent\//), 'customers/alice']);
  });

  it('reads as much to introspect a forged or unknown value as a genuine one, so the time tells nothing', async () => {
    const { login, refresh, familyOf, services, store, users } = await setup();
    const rotatedOut = refreshTokenOf(await login());
    refreshTokenOf(await refresh(rotatedOut));
    const family = familyOf(rotatedOut) as RefreshFamily;
    const reads = recordReads(store, users);
    const readsFor = async (value: string) => {
      await lookUpRefreshToken(services, value, { user: 'after' });
      return reads.splice(0);
    };
    const genuine = await readsFor(rotatedOut);
    expect(genuine).toEqual(['findFamily', 'findByUsername']);
    expect(await readsFor(neverIssued(family))).toEqual(genuine);
    expect(await readsFor(neverIssued({ ...family, family_id: 'AAAAAAAAAAAAAAAAAAAAAA' }))).toEqual(genuine);
  });

  it("refuses a token naming a family without that family's secret, and ends nothing", async () => {
    const { login, refresh, familyOf } = await setup();
    const value = refreshTokenOf(await login());
    const family = familyOf(value);
    // The family id is in the logs: naming it proves nothing, so this is no reuse.
    await expectRefused(refresh(neverIssued(family as never)), /unknown refresh token/);
    expect(familyOf(value)?.revoked).toBe(false);
    expect(refreshTokenOf(await refresh(value))).not.toBe(value);
  });

  it("treats a token with the family's secret that is not its current one as reuse", async () => {
    const { login, refresh, familyOf, store } = await setup();
    const value = refreshTokenOf(await login());
    const family = familyOf(value);
    const secret = parseRefreshToken(value);
    if (secret?.format !== 'family') throw new Error('not a family token');
    expect(familySecretHash(secret.familySecret)).toBe(family?.secret_hash);
    await expectRefused(refresh(neverIssued(family as never, secret.familySecret)), /presented again/);
    expect(store.families.get(family?.family_id as string)?.revoked).toBe(true);
  });
});

describe('refresh_token grant: reuse detection', () => {
  it('revokes the whole family, the newest token included, when a rotated-out token comes back', async () => {
    const { login, refresh, familyOf, lines, clock } = await setup();
    const first = refreshTokenOf(await login());
    const second = refreshTokenOf(await refresh(first));
    clock.advance(1);
    await expectRefused(refresh(first), /presented again: family revoked/);
    expect(familyOf(second)?.revoked).toBe(true);
    await expectRefused(refresh(second), /revoked/);
    const reuse = lines.filter((line) => line.type === 'ferrt');
    expect(reuse).toHaveLength(1);
    expect(reuse[0]).toMatchObject({
      level: 'warn',
      audit: true,
      request_id: 'request-1',
      client_id: 'mobile-app',
      realm: 'customers',
      user_id: 'a11ce0000000000000000000',
      description: expect.stringMatching(/revoked, 1000 ms after its rotation$/),
    });
    expect(JSON.stringify(lines)).not.toContain(first);
    expect(JSON.stringify(lines)).not.toContain(second);
    expect(JSON.stringify(lines)).not.toContain(hashRefreshToken(first));
  });

  it('treats a token two rotations old as reuse too', async () => {
    const { login, refresh } = await setup({ reuseLeewaySeconds: 30 });
    const first = refreshTokenOf(await login());
    const second = refreshTokenOf(await refresh(first));
    const third = refreshTokenOf(await refresh(second));
    await expectRefused(refresh(first), /presented again/);
    await expectRefused(refresh(third), /revoked/);
  });

  it('answers a rotated-out token within the leeway with the same successor, never a new one', async () => {
    const { login, refresh, familyOf, clock, store } = await setup({ reuseLeewaySeconds: 10 });
    const first = refreshTokenOf(await login());
    const second = refreshTokenOf(await refresh(first));
    clock.advance(9);
    const again = await refresh(first);
    expect(again.refresh_token).toBe(second);
    expect(decodeJwt(again.access_token).gty).toBe('refresh_token');
    expect(familyOf(second)?.current).toBe(hashRefreshToken(second));
    expect([store.tokens.size, store.families.size]).toEqual([0, 1]);
    clock.advance(1);
    await expectRefused(refresh(first), /presented again: family revoked/);
    await expectRefused(refresh(second), /revoked/);
  });

  it('stores what a leeway needs only with a leeway, and a table copy with an old token does not open it', async () => {
    const withoutLeeway = await setup();
    const rotated = refreshTokenOf(await withoutLeeway.login());
    const live = refreshTokenOf(await withoutLeeway.refresh(rotated));
    expect(withoutLeeway.familyOf(live)).not.toHaveProperty('successor_seal', expect.anything());

    const { login, refresh, familyOf } = await setup({ reuseLeewaySeconds: 10 });
    const old = refreshTokenOf(await login());
    const current = refreshTokenOf(await refresh(old));
    const seal = familyOf(current)?.successor_seal as string;
    expect(seal).toEqual(expect.any(String));
    // What someone holding a copy of the table and the rotated-out token can compute: not the token.
    const pad = createHmac('sha256', Buffer.from(old, 'base64url'))
      .update('passgate refresh token successor')
      .digest();
    const guess = Buffer.from(Buffer.from(seal, 'base64url').map((byte, i) => byte ^ (pad[i] ?? 0)));
    expect(guess.toString('base64url')).not.toBe(current);
    expect(unsealSuccessor(new Uint8Array(32), old, seal)).not.toBe(current);
    expect(unsealSuccessor(Buffer.alloc(32, 7), old, seal)).toBe(current); // the server's secret
  });
});

describe('refresh_token grant: DPoP binding (RFC 9449 §5)', () => {
  const KEY = 'thumbprint-of-the-device-key';

  it("binds a public client's family to the key it logged in with, and every access token after", async () => {
    const { login, refresh, familyOf } = await setup();
    const first = await login(undefined, KEY);
    expect(first.token_type).toBe('DPoP');
    const value = refreshTokenOf(first);
    expect(familyOf(value)?.jkt).toBe(KEY);
    const next = await refresh(value, {}, undefined, KEY);
    expect(next.token_type).toBe('DPoP');
    expect(decodeJwt(next.access_token).cnf).toEqual({ jkt: KEY });
  });

  it('refuses a bound token without a proof of its key, and that is not reuse: the family lives on', async () => {
    const { login, refresh, familyOf } = await setup();
    const first = refreshTokenOf(await login(undefined, KEY));
    await expectRefused(refresh(first), /without a DPoP proof/);
    await expectRefused(refresh(first, {}, undefined, 'another-key'), /another key/);
    const second = refreshTokenOf(await refresh(first, {}, undefined, KEY));
    // The rotated-out token, replayed without the key, must not end the holder's family either.
    await expectRefused(refresh(first), /without a DPoP proof/);
    expect(familyOf(second)?.revoked).toBe(false);
    expect((await refresh(second, {}, undefined, KEY)).token_type).toBe('DPoP');
    // With the key, a rotated-out token is reuse as ever.
    await expectRefused(refresh(first, {}, undefined, KEY), /reuse|rotated-out/);
    expect(familyOf(second)?.revoked).toBe(true);
  });

  it('leaves a family started without a proof unbound; a refresh with one still binds the access token', async () => {
    const { login, refresh, familyOf } = await setup();
    const value = refreshTokenOf(await login());
    expect(familyOf(value)?.jkt).toBeUndefined();
    const next = await refresh(value, {}, undefined, KEY);
    expect(next.token_type).toBe('DPoP');
    expect(familyOf(refreshTokenOf(next))?.jkt).toBeUndefined();
  });
});

describe('refresh_token grant: lifetimes', () => {
  it('never answers within the leeway with a successor that is itself idle-expired', async () => {
    const { login, refresh, clock } = await setup({ idleTtlSeconds: 5, reuseLeewaySeconds: 60 });
    const first = refreshTokenOf(await login());
    const second = refreshTokenOf(await refresh(first));
    clock.advance(4);
    expect((await refresh(first)).refresh_token).toBe(second);
    clock.advance(1);
    await expectRefused(refresh(first), /presented again/);
  });

  it('ends a token left unused for the idle lifetime', async () => {
    const { login, refresh, clock } = await setup({ idleTtlSeconds: 3600 });
    const first = refreshTokenOf(await login());
    clock.advance(3599);
    const second = refreshTokenOf(await refresh(first));
    clock.advance(3600);
    await expectRefused(refresh(second), /idle/);
  });

  it('ends the family at its absolute lifetime, which rotation does not extend', async () => {
    const { login, refresh, clock } = await setup({ absoluteTtlSeconds: 100, idleTtlSeconds: 60 });
    let value = refreshTokenOf(await login());
    for (const step of [50, 40, 9]) {
      clock.advance(step);
      value = refreshTokenOf(await refresh(value));
    }
    clock.advance(1); // 100 s after the login
    await expectRefused(refresh(value), /absolute/);
  });
});

describe('refresh_token grant: the user', () => {
  it.each([
    [
      'blocked',
      (s: Awaited<ReturnType<typeof setup>>) => s.users.setBlocked('customers', 'alice', true, 'x'),
      /blocked/,
    ],
    [
      'given a new password',
      (s: Awaited<ReturnType<typeof setup>>) =>
        s.users.setPassword('customers', 'alice', 'plain:new password', 'x'),
      /sessions ended/,
    ],
    ['deleted', (s: Awaited<ReturnType<typeof setup>>) => s.users.delete('customers', 'alice'), /deleted/],
  ])('refuses the refresh tokens of a user %s', async (_name, change, detail) => {
    const s = await setup();
    const value = refreshTokenOf(await s.login());
    await change(s);
    await expectRefused(s.refresh(value), detail);
  });

  it('keeps them ended after an unblock, and refuses a new user who took the name', async () => {
    const s = await setup();
    const value = refreshTokenOf(await s.login());
    await s.users.setBlocked('customers', 'alice', true, 'x');
    await s.users.setBlocked('customers', 'alice', false, 'x');
    await expectRefused(s.refresh(value), /sessions ended/);
    const fresh = refreshTokenOf(await s.login());
    const user = await s.users.delete('customers', 'alice');
    await s.users.create({ ...user, user_id: 'b0b000000000000000000000', session_epoch: 0 });
    await expectRefused(s.refresh(fresh), /deleted/);
  });
});

describe('refresh_token grant: races and crashes', () => {
  it.each([2, 8])('gives exactly one of %i parallel refreshes a token at leeway 0', async (n) => {
    const { login, refresh, familyOf, store } = await setup();
    const value = refreshTokenOf(await login());
    const family = familyOf(value);
    const results = await Promise.allSettled(Array.from({ length: n }, () => refresh(value)));
    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of results.filter((result) => result.status === 'rejected')) {
      expect(lost.reason).toMatchObject({ error: 'invalid_grant' });
    }
    // The losers came with a token that was rotated out by then: reuse, so the family ends.
    expect(store.families.get(family?.family_id as string)?.revoked).toBe(true);
    const winner = (won[0] as PromiseFulfilledResult<TokenResponse>).value.refresh_token as string;
    expect(store.families.get(family?.family_id as string)?.current).toBe(hashRefreshToken(winner));
  });

  it('gives all parallel refreshes the same successor within the leeway', async () => {
    const { login, refresh, familyOf } = await setup({ reuseLeewaySeconds: 5 });
    const value = refreshTokenOf(await login());
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(value)));
    const successors = new Set(results.map((result) => result.refresh_token));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(familyOf(value)?.current).toBe(hashRefreshToken(successor as string));
    expect(familyOf(value)?.revoked).toBe(false);
  });

  it.each(['findFamilyAndUser', 'rotateFamily'] as const)(
    'keeps the presented token working when the store fails at %s',
    async (operation) => {
      const { login, refresh, store } = await setup();
      const value = refreshTokenOf(await login());
      store.fail = (op) =>
        op === operation ? new DependencyUnavailableError('dynamodb', op, new Error('timeout')) : undefined;
      await expect(refresh(value)).rejects.toBeInstanceOf(DependencyUnavailableError);
      store.fail = () => undefined;
      expect(refreshTokenOf(await refresh(value))).not.toBe(value);
    },
  );

  it('leaves the family as it was when signing fails after the rotation landed', async () => {
    const s = await setup();
    const value = refreshTokenOf(await s.login());
    const tokens = new Map(s.store.tokens);
    const families = new Map(s.store.families);
    const failing = {
      ...s.services,
      signer: {
        currentKeyId: () => signer.currentKeyId(),
        publicJwks: () => signer.publicJwks(),
        // Fails after the rotation beside it has landed: the rotation is undone.
        sign: () =>
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new DependencyUnavailableError('kms', 'Sign', new Error('KMS down'))),
              20,
            ),
          ),
      },
    };
    await expect(
      handleTokenRequest(
        { grant_type: 'refresh_token', refresh_token: value },
        publicClient,
        requestInfo({ issuer: ISSUER }),
        failing,
      ),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(s.store.tokens).toEqual(tokens);
    expect(s.store.families).toEqual(families);
    expect(refreshTokenOf(await s.refresh(value))).not.toBe(value);
  });

  it('counts a rotation whose success report was lost (an SDK retry of a committed write)', async () => {
    const { login, refresh, store, familyOf } = await setup();
    const value = refreshTokenOf(await login());
    const rotate = store.rotateFamily.bind(store);
    store.rotateFamily = async (familyId, from, rotation) => {
      await rotate(familyId, from, rotation); // committed, but the retry's condition fails
      return false;
    };
    const next = refreshTokenOf(await refresh(value));
    expect(familyOf(value)?.current).toBe(hashRefreshToken(next));
    expect(familyOf(value)?.revoked).toBe(false);
  });
});

describe('refresh_token grant: tokens issued before tokens named their family', () => {
  /** A session as the earlier format stored it: a family without a secret, and a record per token. */
  function legacySession(s: Awaited<ReturnType<typeof setup>>, { idleSeconds = 15 * DAY } = {}) {
    const value = randomBytes(32).toString('base64url');
    const now = s.clock.now();
    const family = {
      family_id: randomBytes(16).toString('base64url'),
      client_id: 'mobile-app',
      realm: 'customers',
      user_id: s.user.user_id,
      username_key: 'alice',
      session_epoch: 0,
      audience: 'https://api.example.com/',
      scope: ['openid', 'profile', 'offline_access', 'read:orders'],
      created_at: now,
      absolute_expires_at: now + 30 * DAY * 1000,
      current: hashRefreshToken(value),
      revoked: false,
    };
    s.store.families.set(family.family_id, family);
    s.store.tokens.set(family.current, {
      token_hash: family.current,
      family_id: family.family_id,
      realm: 'customers',
      username_key: 'alice',
      issued_at: now,
      idle_expires_at: now + idleSeconds * 1000,
      absolute_expires_at: family.absolute_expires_at,
    });
    return value;
  }

  it('refreshes them for their lifetime, answering with a token of the current format', async () => {
    const s = await setup();
    const old = legacySession(s);
    s.clock.advance(60);
    const next = refreshTokenOf(await s.refresh(old));
    const family = s.familyOf(next);
    expect(family?.current).toBe(hashRefreshToken(next));
    expect(family?.secret_hash).toEqual(expect.any(String));
    expect(family?.idle_expires_at).toBe(s.clock.now() + 15 * DAY * 1000);
    expect(refreshTokenOf(await s.refresh(next))).not.toBe(next);
  });

  it('still recognises one presented again after its rotation as reuse', async () => {
    const s = await setup();
    const old = legacySession(s);
    const next = refreshTokenOf(await s.refresh(old));
    await expectRefused(s.refresh(old), /presented again: family revoked/);
    await expectRefused(s.refresh(next), /revoked/);
  });

  it('answers one within the leeway with the same successor', async () => {
    const s = await setup({ reuseLeewaySeconds: 10 });
    const old = legacySession(s);
    const next = refreshTokenOf(await s.refresh(old));
    expect((await s.refresh(old)).refresh_token).toBe(next);
  });

  it("keeps their record's idle lifetime", async () => {
    const s = await setup();
    const old = legacySession(s, { idleSeconds: 60 });
    s.clock.advance(60);
    await expectRefused(s.refresh(old), /idle/);
  });
});
