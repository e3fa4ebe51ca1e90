import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../functions/adapters/dynamodb/client.ts';
import { DynamoRefreshTokenStore, newFamily } from '../../functions/adapters/dynamodb/refresh-token-store.ts';
import { dynamoStores } from '../../functions/adapters/dynamodb/stores.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import type { NewUser, RefreshFamily, RefreshTokenRecord } from '../../functions/oauth/ports.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { hashRefreshToken } from '../../functions/oauth/sessions/refresh-token-format.ts';
import { refreshTokensTable } from '../../functions/store-schema.ts';
import { testConfig } from '../helpers/config.ts';
import { engineServices, openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { publicClient, requestInfo } from '../helpers/memory-ports.ts';

let store: TestStore;
let tokens: DynamoRefreshTokenStore;
let keyDir: string;
beforeAll(async () => {
  store = await openTestStore();
  tokens = new DynamoRefreshTokenStore(store.db, store.names['refresh-tokens'], store.names.users);
  keyDir = mkdtempSync(join(tmpdir(), 'passgate-store-'));
});
afterAll(async () => {
  await store?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

let sequence = 0;
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;
const NOW = Date.UTC(2030, 0, 1);

function family(overrides: Partial<RefreshFamily> = {}): RefreshFamily {
  return {
    family_id: unique('family'),
    client_id: 'mobile-app',
    realm: 'customers',
    user_id: 'a11ce0000000000000000000',
    username_key: 'alice',
    session_epoch: 0,
    audience: 'https://api.example.com/',
    scope: ['openid', 'offline_access', 'read:orders'],
    created_at: NOW,
    absolute_expires_at: NOW + 30 * 86_400_000 + 1,
    current: unique('hash-0'),
    revoked: false,
    ...overrides,
  };
}

/** A user of the realm `customers` whose password is `pw` (the test hasher's `plain:`). */
const newUser = (username: string): NewUser => ({
  realm: 'customers',
  user_id: `${username}-id`,
  session_epoch: 0,
  username,
  username_key: username,
  email_verified: false,
  blocked: false,
  created_at: new Date(NOW).toISOString(),
  password_hash: 'plain:pw',
  permissions: {},
});

function token(of: RefreshFamily, tokenHash = of.current): RefreshTokenRecord {
  return {
    token_hash: tokenHash,
    family_id: of.family_id,
    realm: of.realm,
    username_key: of.username_key,
    issued_at: NOW,
    idle_expires_at: NOW + 15 * 86_400_000,
    absolute_expires_at: of.absolute_expires_at,
  };
}

/** A family as a sign-in's transaction writes it (SignInStore), without the rest of the sign-in. */
async function putFamily(written: RefreshFamily) {
  await store.db.send(new PutCommand(newFamily(store.names['refresh-tokens'], written)));
}

/** A token record of the earlier format, as it was written then: the store only reads them now. */
async function putLegacyToken(record: RefreshTokenRecord) {
  await store.db.send(
    new PutCommand({
      TableName: store.names['refresh-tokens'],
      Item: {
        ...record,
        pk: `token#${record.token_hash}`,
        expires_at: Math.ceil(record.absolute_expires_at / 1000),
      },
    }),
  );
}

describe('refresh token store', () => {
  it('reads back a family and a token record exactly as written, without storage attributes', async () => {
    const written = family({ idle_expires_at: NOW + 600_000, secret_hash: 'secret-hash' });
    await putFamily(written);
    await putLegacyToken(token(written));
    expect(await tokens.findFamily(written.family_id)).toEqual(written);
    expect(await tokens.findToken(written.current)).toEqual(token(written));
    expect(await tokens.findFamily('nope')).toBeUndefined();
    expect(await tokens.findToken('nope')).toBeUndefined();
  });

  it('reads a family and a user in one call, each as its own read returns it, absent ones undefined', async () => {
    const { users } = dynamoStores(store.db, store.names);
    const username = unique('reader');
    const user = await users.create(newUser(username));
    const written = family({ user_id: user.user_id, username_key: username, secret_hash: 'secret-hash' });
    await putFamily(written);
    const key = { realm: 'customers', username_key: username };
    expect(await tokens.findFamilyAndUser(written.family_id, key)).toEqual({
      family: written,
      user: await users.findByUsername('customers', username),
    });
    expect(await tokens.findFamilyAndUser('nope', { realm: '#absent', username_key: 'nobody' })).toEqual({
      family: undefined,
      user: undefined,
    });
    expect(await tokens.findFamilyAndUser('nope', key)).toEqual({
      family: undefined,
      user: expect.anything(),
    });
  });

  it('stores the TTL attribute in epoch seconds', async () => {
    const written = family();
    await putFamily(written);
    const ttl = Math.ceil(written.absolute_expires_at / 1000);
    const { Item } = await store.db.send(
      new GetCommand({
        TableName: store.names['refresh-tokens'],
        Key: { pk: `family#${written.family_id}` },
        ConsistentRead: true,
      }),
    );
    expect(Item?.[refreshTokensTable.ttlAttribute]).toBe(ttl);
  });

  it('never overwrites an existing family', async () => {
    const written = family();
    await putFamily(written);
    await expect(putFamily({ ...written, client_id: 'other' })).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    expect((await tokens.findFamily(written.family_id))?.client_id).toBe('mobile-app');
  });

  it('rotates a family only from its current token, setting every field given and removing the others', async () => {
    const written = family({ idle_expires_at: NOW + 1 });
    await putFamily(written);
    const rotation = {
      current: 'hash-1',
      idle_expires_at: NOW + 600_005,
      secret_hash: 'secret-hash',
      previous: written.current,
      rotated_at: NOW + 5,
      successor_seal: 'seal-1',
    };
    expect(await tokens.rotateFamily(written.family_id, written.current, rotation)).toBe(true);
    expect(await tokens.findFamily(written.family_id)).toEqual({ ...written, ...rotation });
    expect(
      await tokens.rotateFamily(written.family_id, written.current, { ...rotation, current: 'hash-2' }),
    ).toBe(false);
    expect(await tokens.rotateFamily('missing', written.current, rotation)).toBe(false);
    // Without a leeway no seal is written, and the one before goes.
    const { successor_seal: _seal, ...unsealed } = { ...rotation, current: 'hash-2', previous: 'hash-1' };
    expect(await tokens.rotateFamily(written.family_id, 'hash-1', unsealed)).toBe(true);
    expect(await tokens.findFamily(written.family_id)).toEqual({ ...written, ...unsealed });
    // An undo puts back exactly what was read: fields absent then are removed again.
    expect(
      await tokens.rotateFamily(written.family_id, 'hash-2', {
        current: written.current,
        idle_expires_at: NOW + 1,
      }),
    ).toBe(true);
    expect(await tokens.findFamily(written.family_id)).toEqual(written);
  });

  it('lets exactly one of many simultaneous rotations from one token win', async () => {
    const written = family();
    await putFamily(written);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        tokens.rotateFamily(written.family_id, written.current, {
          current: `racer-${i}`,
          idle_expires_at: NOW + 1,
          previous: written.current,
          rotated_at: NOW,
          successor_seal: 's',
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await tokens.findFamily(written.family_id))?.current).toBe(`racer-${winner}`);
  });

  it('revokes idempotently, keeps the first revocation time, and never rotates a revoked family', async () => {
    const written = family();
    await putFamily(written);
    await tokens.revokeFamily(written.family_id, NOW + 1);
    await tokens.revokeFamily(written.family_id, NOW + 2);
    expect(await tokens.findFamily(written.family_id)).toMatchObject({ revoked: true, revoked_at: NOW + 1 });
    expect(
      await tokens.rotateFamily(written.family_id, written.current, { current: 'x', idle_expires_at: NOW }),
    ).toBe(false);
    await tokens.revokeFamily('missing', NOW); // nothing to revoke, no error
    expect(await tokens.findFamily('missing')).toBeUndefined();
  });

  it('turns an unreachable engine into DependencyUnavailableError (503)', async () => {
    const db = documentClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'local',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const unreachable = new DynamoRefreshTokenStore(db, 'passgate-refresh-tokens', 'passgate-users');
    await expect(unreachable.findFamily('x')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(
      unreachable.findFamilyAndUser('x', { realm: 'customers', username_key: 'x' }),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
    db.destroy();
  });
});

describe('refresh_token grant on a real engine', () => {
  const services = (reuseLeewaySeconds: number): Promise<Services> =>
    engineServices(
      store,
      parseConfig(
        testConfig({ refreshTokens: { absoluteTtlSeconds: 3600, idleTtlSeconds: 600, reuseLeewaySeconds } }),
      ),
      keyDir,
    );
  const info = requestInfo();
  const mobile = publicClient;

  async function login(s: Services, username: string) {
    await s.users.create(newUser(username)).catch(() => undefined);
    const response = await handleTokenRequest(
      { grant_type: 'password', username, password: 'pw', scope: 'offline_access' },
      mobile,
      info,
      s,
    );
    return response.refresh_token as string;
  }
  const refresh = (s: Services, refreshToken: string) =>
    handleTokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }, mobile, info, s);

  it.each([2, 8])('gives exactly one of %i parallel refreshes a token at leeway 0', async (n) => {
    const s = await services(0);
    const value = await login(s, unique('racer'));
    const results = await Promise.allSettled(Array.from({ length: n }, () => refresh(s, value)));
    const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    expect(won).toHaveLength(1);
    // The losers presented a token rotated out by then: the family ends, nothing of it is live.
    await expect(refresh(s, won[0]?.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('gives every parallel refresh the same successor within the leeway', async () => {
    const s = await services(5);
    const value = await login(s, unique('leeway'));
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(s, value)));
    expect(new Set(results.map((result) => result.refresh_token)).size).toBe(1);
    expect((await refresh(s, results[0]?.refresh_token as string)).refresh_token).toBeDefined();
  });

  it('refreshes a token of the earlier format (a record per token) and upgrades its family', async () => {
    const s = await services(0);
    const username = unique('legacy');
    await login(s, username); // creates the user
    const value = randomBytes(32).toString('base64url');
    const legacy = family({
      username_key: username,
      user_id: `${username}-id`,
      scope: ['offline_access'],
      current: hashRefreshToken(value),
      created_at: s.clock.now(),
      absolute_expires_at: s.clock.now() + 3_600_000,
    });
    await putFamily(legacy);
    await putLegacyToken({
      ...token(legacy),
      issued_at: s.clock.now(),
      idle_expires_at: s.clock.now() + 600_000,
    });
    const next = (await refresh(s, value)).refresh_token as string;
    expect(await tokens.findFamily(legacy.family_id)).toMatchObject({
      current: hashRefreshToken(next),
      previous: hashRefreshToken(value),
      secret_hash: expect.any(String),
    });
    expect((await refresh(s, next)).refresh_token).toBeDefined();
    await expect(refresh(s, value)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await tokens.findFamily(legacy.family_id))?.revoked).toBe(true);
  });

  it('ends the sessions of a user whose password changes, in the same write', async () => {
    const s = await services(0);
    const username = unique('changer');
    const value = await login(s, username);
    const before = await s.users.findByUsername('customers', username);
    const after = await s.users.setPassword('customers', username, 'plain:new', new Date(NOW).toISOString());
    expect(after.session_epoch).toBe((before?.session_epoch ?? 0) + 1);
    expect(after.password_hash).toBe('plain:new');
    await expect(refresh(s, value)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
