import { createHmac, randomBytes } from 'node:crypto';
import { GRANT_REFRESH_TOKEN } from '../../config/grant-types.ts';
import type { ApiConfig, ClientConfig, TenantConfig } from '../../config/schema.ts';
import type { RefreshFamily, RefreshTokenRecord, UserRecord } from '../ports.ts';
import type { RequestInfo, Services } from '../services.ts';
import {
  familySecretHash,
  hashRefreshToken,
  newFamilySecret,
  newRefreshTokenValue,
  openUserKey,
  parseRefreshToken,
  provesFamily,
} from './refresh-token-format.ts';

/**
 * The successor of a rotated token, sealed so that only the server, shown the rotated token, can
 * open it: XOR with HMAC-SHA-256 blocks keyed by the server's secret (the counters' key: a Secrets
 * Manager secret on AWS, a key file locally) over that token's value, which the store never sees. A
 * copy of the table with a stolen old token is not enough. It lets the server answer a retry within
 * the reuse leeway with the same successor, never a second live token, so it is only written where
 * a leeway is set.
 */
function successorPad(secret: Uint8Array, previous: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let block = 0; blocks.length * 32 < length; block++) {
    const hmac = createHmac('sha256', secret)
      .update('passgate refresh token successor\0')
      .update(Buffer.from(previous, 'base64url'));
    // The first block is the whole pad of a 256-bit successor, as sealed before tokens named their family.
    if (block > 0) hmac.update(Buffer.from([block]));
    blocks.push(hmac.digest());
  }
  return Buffer.concat(blocks);
}

const xorPad = (secret: Uint8Array, previous: string, data: Buffer) => {
  const pad = successorPad(secret, previous, data.length);
  return Buffer.from(data.map((byte, i) => byte ^ (pad[i] as number))).toString('base64url');
};

export const sealSuccessor = (secret: Uint8Array, previous: string, successor: string) =>
  xorPad(secret, previous, Buffer.from(successor, 'base64url'));

export const unsealSuccessor = (secret: Uint8Array, previous: string, seal: string) =>
  xorPad(secret, previous, Buffer.from(seal, 'base64url'));

/** docs/sessions.md, "Getting a refresh token": `offline_access` granted, the API allows offline access, the client has the grant. */
export function offersRefreshToken(client: ClientConfig, api: ApiConfig, scopes: readonly string[]): boolean {
  return scopes.includes('offline_access') && mayHoldRefreshTokens(client, api);
}

/** The API allows offline access and the client has the refresh grant. */
export function mayHoldRefreshTokens(client: ClientConfig, api: ApiConfig): boolean {
  return api.allowOfflineAccess && (client.grantTypes as readonly string[]).includes(GRANT_REFRESH_TOKEN);
}

const seconds = (value: number) => value * 1000;

/**
 * The refresh token lifetimes of one client: its own `refreshTokens` where it sets them (a web
 * app's tokens are the most exposed, so it may want them shorter), the tenant's otherwise.
 */
export function refreshLifetimes(config: TenantConfig, clientId: string): TenantConfig['refreshTokens'] {
  const own = config.clients.find((client) => client.clientId === clientId)?.refreshTokens;
  return {
    ...config.refreshTokens,
    absoluteTtlSeconds: own?.absoluteTtlSeconds ?? config.refreshTokens.absoluteTtlSeconds,
    idleTtlSeconds: own?.idleTtlSeconds ?? config.refreshTokens.idleTtlSeconds,
  };
}

/**
 * RFC 9449 §5: a refresh token issued with a DPoP proof to a public client is bound to the proof's
 * key; a confidential client's is not, being bound to the client's authentication already.
 */
export const refreshBinding = (client: ClientConfig, info: RequestInfo): string | undefined =>
  client.clientSecretHash === undefined ? info.dpop?.jkt : undefined;

/** When a token of the family issued at `now` falls idle: never past the family's absolute expiry. */
export function idleExpiry(
  config: TenantConfig,
  family: Pick<RefreshFamily, 'client_id' | 'absolute_expires_at'>,
  now: number,
): number {
  const { idleTtlSeconds } = refreshLifetimes(config, family.client_id);
  return Math.min(now + seconds(idleTtlSeconds), family.absolute_expires_at);
}

/** A new rotation family and its first token, not stored yet; `value` is what the app gets. */
export interface NewSession {
  readonly value: string;
  readonly family: RefreshFamily;
}

/** Makes a rotation family and its first token (nothing is written here). */
export function newSession(
  services: Pick<Services, 'config' | 'counterHashKey'>,
  session: {
    client: ClientConfig;
    api: ApiConfig;
    user: UserRecord;
    scopes: readonly string[];
    now: number;
    /** How the login authenticated, when more than a password (RFC 8176). */
    amr?: readonly string[];
    jkt: string | undefined;
  },
): NewSession {
  const { config } = services;
  const secret = newFamilySecret();
  const started = {
    family_id: randomBytes(16).toString('base64url'),
    client_id: session.client.clientId,
    realm: session.user.realm,
    user_id: session.user.user_id,
    username_key: session.user.username_key,
    session_epoch: session.user.session_epoch ?? 0,
    audience: session.api.identifier,
    scope: [...session.scopes],
    created_at: session.now,
    absolute_expires_at:
      session.now + seconds(refreshLifetimes(config, session.client.clientId).absoluteTtlSeconds),
    secret_hash: familySecretHash(secret),
    revoked: false,
    ...(session.amr ? { amr: [...session.amr] } : {}),
    ...(session.jkt === undefined ? {} : { jkt: session.jkt }),
  };
  const value = newRefreshTokenValue(services.counterHashKey, { ...started, secret });
  const family: RefreshFamily = {
    ...started,
    current: hashRefreshToken(value),
    idle_expires_at: idleExpiry(config, started, session.now),
  };
  return { value, family };
}

/** What a presented refresh token turned out to be, before the user is looked at. */
export type PresentedRefreshToken =
  | {
      readonly state: 'current';
      readonly family: RefreshFamily;
      /** When this token was issued and when it falls idle (epoch ms). */
      readonly issuedAt: number;
      readonly idleExpiresAt: number;
    }
  /** The token rotated out moments ago, within the reuse leeway: answer with its successor. */
  | { readonly state: 'grace'; readonly family: RefreshFamily; readonly successor: string }
  /** A rotated-out token presented again after the leeway: the family must end. */
  | { readonly state: 'reused'; readonly family: RefreshFamily }
  | { readonly state: 'invalid'; readonly detail: string };

/**
 * Classifies a presented token against its family (pure; `now` in epoch ms). `found` is what
 * `lookUpRefreshToken` proved: the family the token belongs to, and for a token of the format
 * before tokens named their family, its record. Only a token of the authenticating client counts
 * at all: another client's token is `invalid` and changes nothing.
 */
export function classifyRefreshToken(
  presented: { value: string; hash: string },
  found: Pick<FoundRefreshToken, 'family' | 'legacyToken'>,
  clientId: string,
  now: number,
  lifetimes: Pick<TenantConfig['refreshTokens'], 'idleTtlSeconds' | 'reuseLeewaySeconds'>,
  sealKey: Uint8Array,
): PresentedRefreshToken {
  const { family, legacyToken } = found;
  if (!family) return { state: 'invalid', detail: 'unknown refresh token' };
  if (family.client_id !== clientId) {
    return { state: 'invalid', detail: `refresh token of client ${family.client_id}` };
  }
  if (family.revoked) return { state: 'invalid', detail: 'refresh token family revoked' };
  if (now >= family.absolute_expires_at) {
    return { state: 'invalid', detail: 'refresh token past its absolute lifetime' };
  }
  if (presented.hash === family.current) {
    // A family not rotated since tokens named their family keeps its current token's times in the token's record.
    const issuedAt = family.rotated_at ?? legacyToken?.issued_at ?? family.created_at;
    const idleExpiresAt = family.idle_expires_at ?? legacyToken?.idle_expires_at ?? 0;
    if (now >= idleExpiresAt) return { state: 'invalid', detail: 'refresh token idle too long' };
    return { state: 'current', family, issuedAt, idleExpiresAt };
  }
  // The successor was issued at `rotated_at`: it must itself still be inside its idle lifetime.
  const withinLeeway =
    presented.hash === family.previous &&
    family.rotated_at !== undefined &&
    family.successor_seal !== undefined &&
    now - family.rotated_at < seconds(Math.min(lifetimes.reuseLeewaySeconds, lifetimes.idleTtlSeconds));
  if (withinLeeway) {
    const successor = unsealSuccessor(sealKey, presented.value, family.successor_seal as string);
    if (hashRefreshToken(successor) === family.current) return { state: 'grace', family, successor };
  }
  return { state: 'reused', family };
}

/**
 * Why the family's user may no longer refresh, or undefined. The user is read strongly consistent;
 * a deleted user, a new user under the same name, a block or a new password (epoch bump) end it.
 */
export function sessionUserProblem(family: RefreshFamily, user: UserRecord | undefined): string | undefined {
  if (!user || user.user_id !== family.user_id) return 'user deleted';
  if (user.blocked) return 'user blocked';
  if ((user.session_epoch ?? 0) !== family.session_epoch)
    return "user's sessions ended (new password or block)";
  return undefined;
}

/** A presented value and what the store holds of it. */
export interface FoundRefreshToken {
  readonly hash: string;
  /** The family the token is proven to belong to; absent for an unknown, forged or foreign-format value. */
  readonly family?: RefreshFamily;
  readonly user?: UserRecord;
  /** The record of a token of the format before tokens named their family. */
  readonly legacyToken?: RefreshTokenRecord;
  /** The family secret the token carries (undefined for the older format). */
  readonly familySecret?: Buffer;
}

/**
 * The token's family and the family's user, read as a refresh (`user: 'beside'`), an introspection
 * (`'after'`: without the server's secret the user's key comes from the family) or a revocation
 * (`'none'`: it ends the family whoever its user is) needs.
 *
 * A token names its family and carries its user's key sealed, so a refresh reads both in one
 * call (findFamilyAndUser). A token of the earlier format (256 random bits, found through its record, issued
 * until families were named in the value) still works for its lifetime: its record is read first.
 * Values that name no stored family read keys no item has, so that answering them takes the time
 * a stored one's does: the time must not tell whether a token exists (RFC 7009 §2.2's concern).
 */
export async function lookUpRefreshToken(
  stores: Pick<Services, 'refreshTokens' | 'users' | 'counterHashKey'>,
  value: string,
  { user: reading }: { user: 'beside' | 'after' | 'none' },
): Promise<FoundRefreshToken> {
  const hash = hashRefreshToken(value);
  const parsed = parseRefreshToken(value);
  if (!parsed) return { hash };
  // A value that names no user reads a key no user has, in the same time as one that does.
  const userKeyOf = (key: { realm: string; username_key: string } | undefined) => ({
    realm: key?.realm ?? '#absent',
    username_key: key?.username_key ?? hash,
  });
  const readUser = (key: { realm: string; username_key: string } | undefined) => {
    if (reading === 'none') return undefined;
    const { realm, username_key } = userKeyOf(key);
    return stores.users.findByUsername(realm, username_key);
  };
  if (parsed.format === 'legacy') {
    const token = await stores.refreshTokens.findToken(hash);
    const [family, user] = await Promise.all([
      stores.refreshTokens.findFamily(token?.family_id ?? `absent-${hash}`),
      readUser(token),
    ]);
    return token && family ? { hash, family, user, legacyToken: token } : { hash };
  }
  const hint = reading === 'beside' ? openUserKey(stores.counterHashKey, parsed.sealedUser) : undefined;
  const { family, user: hinted } =
    reading === 'beside'
      ? await stores.refreshTokens.findFamilyAndUser(parsed.familyId, userKeyOf(hint))
      : { family: await stores.refreshTokens.findFamily(parsed.familyId), user: undefined };
  const proven = family !== undefined && provesFamily(parsed.familySecret, family.secret_hash);
  if (reading === 'none') return proven ? { hash, family, familySecret: parsed.familySecret } : { hash };
  const sameUser = proven && hint?.realm === family.realm && hint.username_key === family.username_key;
  // Without the hint (another server secret, or an introspection) the user is read after the
  // family; a value that proves no family reads an absent key instead, in the same time.
  const user = sameUser || (!proven && hint) ? hinted : await readUser(proven ? family : undefined);
  return proven ? { hash, family, user, familySecret: parsed.familySecret } : { hash };
}
