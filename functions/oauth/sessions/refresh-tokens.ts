import { createHash, createHmac, randomBytes } from 'node:crypto';
import { defaults } from '../../config/defaults.ts';
import { GRANT_REFRESH_TOKEN } from '../../config/grant-types.ts';
import type { ApiConfig, ClientConfig, TenantConfig } from '../../config/schema.ts';
import { allLanded } from '../all-landed.ts';
import type { RefreshFamily, RefreshTokenRecord, RefreshTokenStore, UserRecord } from '../ports.ts';
import type { RequestInfo, Services } from '../services.ts';

/** 256 bits in base64url without padding: exactly 43 characters. */
const WELL_FORMED = /^[A-Za-z0-9_-]{43}$/;

export const isWellFormedRefreshToken = (value: string) => WELL_FORMED.test(value);

export const newRefreshToken = () => randomBytes(defaults.refreshTokenBytes).toString('base64url');

/** Only this hash is stored: a copy of the table gives no usable token. */
export const hashRefreshToken = (value: string) =>
  createHash('sha256').update(value, 'utf8').digest('base64url');

/**
 * The successor of a rotated token, sealed so that only the server, shown the rotated token, can
 * open it: XOR with HMAC-SHA-256 keyed by the server's secret (the counters' key: a Secrets Manager
 * secret on AWS, a key file locally) over that token's value, which the store never sees. A copy
 * of the table with a stolen old token is not enough. It lets the server answer a retry within the
 * reuse leeway with the same successor, never a second live token, so it is only written where a
 * leeway is set.
 */
function successorPad(secret: Uint8Array, previous: string): Buffer {
  return createHmac('sha256', secret)
    .update('passgate refresh token successor\0')
    .update(Buffer.from(previous, 'base64url'))
    .digest();
}

const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((byte, i) => byte ^ (b[i] ?? 0)));

export const sealSuccessor = (secret: Uint8Array, previous: string, successor: string) =>
  xor(Buffer.from(successor, 'base64url'), successorPad(secret, previous)).toString('base64url');

export const unsealSuccessor = (secret: Uint8Array, previous: string, seal: string) =>
  xor(Buffer.from(seal, 'base64url'), successorPad(secret, previous)).toString('base64url');

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

/** A new token record of a family: idle lifetime from now, never past the family's absolute expiry. */
export function tokenRecord(
  config: TenantConfig,
  family: RefreshFamily,
  tokenHash: string,
  now: number,
): RefreshTokenRecord {
  const { idleTtlSeconds } = refreshLifetimes(config, family.client_id);
  return {
    token_hash: tokenHash,
    family_id: family.family_id,
    realm: family.realm,
    username_key: family.username_key,
    issued_at: now,
    idle_expires_at: Math.min(now + seconds(idleTtlSeconds), family.absolute_expires_at),
    absolute_expires_at: family.absolute_expires_at,
  };
}

/** A new rotation family and its first token, not stored yet; `value` is what the app gets. */
export interface NewSession {
  readonly value: string;
  readonly family: RefreshFamily;
  readonly token: RefreshTokenRecord;
}

/** Makes a rotation family and its first token (nothing is written here). */
export function newSession(
  config: TenantConfig,
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
  const value = newRefreshToken();
  const family: RefreshFamily = {
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
    current: hashRefreshToken(value),
    revoked: false,
    ...(session.amr ? { amr: [...session.amr] } : {}),
    ...(session.jkt === undefined ? {} : { jkt: session.jkt }),
  };
  return { value, family, token: tokenRecord(config, family, family.current, session.now) };
}

/**
 * Writes the family and its first token side by side. Until the value is sent nobody can use
 * them, so what landed of a failed write is removed with `removeSession`, never left behind.
 */
export async function storeSession(store: RefreshTokenStore, session: NewSession): Promise<void> {
  await allLanded([store.createFamily(session.family), store.putToken(session.token)]);
}

/**
 * Takes back a session whose value was never sent (its writes or the signing beside them failed):
 * both records are deleted, and absent ones are fine. Should the store fail here too, the records
 * are unreachable (nobody holds the value) and expire with the family.
 */
export async function removeSession(store: RefreshTokenStore, session: NewSession): Promise<void> {
  await allLanded([
    store.deleteFamily(session.family.family_id),
    store.deleteToken(session.token.token_hash),
  ]);
}

/** What a presented refresh token turned out to be, before the user is looked at. */
export type PresentedRefreshToken =
  | { readonly state: 'current'; readonly token: RefreshTokenRecord; readonly family: RefreshFamily }
  /** The token rotated out moments ago, within the reuse leeway: answer with its successor. */
  | {
      readonly state: 'grace';
      readonly token: RefreshTokenRecord;
      readonly family: RefreshFamily;
      readonly successor: string;
    }
  /** A rotated-out token presented again after the leeway: the family must end. */
  | { readonly state: 'reused'; readonly token: RefreshTokenRecord; readonly family: RefreshFamily }
  | { readonly state: 'invalid'; readonly detail: string };

/**
 * Classifies a presented token against its family (pure; `now` in epoch ms). Only a token of the
 * authenticating client counts at all: another client's token is `invalid` and changes nothing.
 */
export function classifyRefreshToken(
  presented: { value: string; hash: string },
  token: RefreshTokenRecord | undefined,
  family: RefreshFamily | undefined,
  clientId: string,
  now: number,
  lifetimes: Pick<TenantConfig['refreshTokens'], 'idleTtlSeconds' | 'reuseLeewaySeconds'>,
  sealKey: Uint8Array,
): PresentedRefreshToken {
  if (!token) return { state: 'invalid', detail: 'unknown refresh token' };
  if (!family) return { state: 'invalid', detail: 'refresh token family not found' };
  if (family.client_id !== clientId) {
    return { state: 'invalid', detail: `refresh token of client ${family.client_id}` };
  }
  if (family.revoked) return { state: 'invalid', detail: 'refresh token family revoked' };
  if (now >= family.absolute_expires_at) {
    return { state: 'invalid', detail: 'refresh token past its absolute lifetime' };
  }
  if (presented.hash === family.current) {
    if (now >= token.idle_expires_at) return { state: 'invalid', detail: 'refresh token idle too long' };
    return { state: 'current', token, family };
  }
  // The successor was issued at `rotated_at`: it must itself still be inside its idle lifetime.
  const withinLeeway =
    presented.hash === family.previous &&
    family.rotated_at !== undefined &&
    family.successor_seal !== undefined &&
    now - family.rotated_at < seconds(Math.min(lifetimes.reuseLeewaySeconds, lifetimes.idleTtlSeconds));
  if (withinLeeway) {
    const successor = unsealSuccessor(sealKey, presented.value, family.successor_seal as string);
    if (hashRefreshToken(successor) === family.current) return { state: 'grace', token, family, successor };
  }
  return { state: 'reused', token, family };
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

/** The token, its family and the family's user, read as a refresh, revocation or introspection needs. */
export async function lookUpRefreshToken(
  stores: Pick<Services, 'refreshTokens' | 'users'>,
  value: string,
  // Revocation ends the family whoever its user is: it skips that strongly consistent read.
  { withUser = true }: { withUser?: boolean } = {},
): Promise<{ hash: string; token?: RefreshTokenRecord; family?: RefreshFamily; user?: UserRecord }> {
  const hash = hashRefreshToken(value);
  if (!isWellFormedRefreshToken(value)) return { hash };
  const token = await stores.refreshTokens.findToken(hash);
  // The token carries the user's key, so the family and the user are read side by side. A token
  // never issued (or gone) reads keys no item has, so that answering it takes the time a stored
  // one's does: the time must not tell whether a token exists (RFC 7009 §2.2's concern).
  const [family, user] = await Promise.all([
    stores.refreshTokens.findFamily(token?.family_id ?? `absent-${hash}`),
    withUser
      ? stores.users.findByUsername(token?.realm ?? '#absent', token?.username_key ?? hash)
      : undefined,
  ]);
  return token ? { hash, token, family, user } : { hash };
}
