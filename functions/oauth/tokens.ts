import { randomUUID } from 'node:crypto';
import { defaults } from '../config/defaults.ts';
import type { ApiConfig, ClientConfig } from '../config/schema.ts';
import { signJwt } from './jwt.ts';
import type { Signer, UserRecord } from './ports.ts';

/** `gty` names how the token was obtained, as Auth0 does. */
export type GrantTypeClaim = 'password' | 'password-realm' | 'refresh_token';

/** What a grant decided; everything needed to mint the tokens. */
export interface Authorization {
  readonly issuer: string;
  readonly client: ClientConfig;
  readonly api: ApiConfig;
  readonly user: UserRecord;
  readonly scopes: readonly string[];
  readonly gty: GrantTypeClaim;
  /** Epoch seconds. */
  readonly now: number;
  /** Epoch seconds of the login the tokens descend from; `now` for a login itself. */
  readonly authTime?: number;
  /** RFC 8176 methods of that login; `["pwd"]` when absent (a password alone). */
  readonly amr?: readonly string[];
  /** RFC 9449 §6: the thumbprint of the DPoP key the access token is bound to. */
  readonly jkt?: string;
}

/** A password alone (RFC 8176 §2). */
export const PASSWORD_ONLY: readonly string[] = ['pwd'];

/** RFC 6749 §5.1 success body. */
export interface TokenResponse {
  access_token: string;
  /** RFC 9449 §5: `DPoP` for a token bound to a key. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
  /** The mfa-recovery-code grant's replacement for the code just spent (Auth0). */
  recovery_code?: string;
}

export const subjectOf = (user: Pick<UserRecord, 'realm' | 'user_id'>) => `${user.realm}|${user.user_id}`;

/** RFC 9068 §2.2 claims, plus Auth0's `gty`, `azp` and `permissions`, and RFC 9449's `cnf`. */
export function accessTokenClaims(auth: Authorization): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    iss: auth.issuer,
    sub: subjectOf(auth.user),
    aud: auth.api.identifier,
    iat: auth.now,
    exp: auth.now + auth.api.accessTokenTtlSeconds,
    jti: randomUUID(),
    client_id: auth.client.clientId,
    azp: auth.client.clientId,
    scope: auth.scopes.join(' '),
    gty: auth.gty,
    amr: [...(auth.amr ?? PASSWORD_ONLY)],
  };
  if (auth.api.enforcePermissions)
    claims.permissions = [...(auth.user.permissions[auth.api.identifier] ?? [])];
  // RFC 9449 §6.1: the confirmation claim names the key a resource must see a proof of.
  if (auth.jkt !== undefined) claims.cnf = { jkt: auth.jkt };
  return claims;
}

/** OpenID Connect Core §2: the ID token is for the client (aud = client_id); claims by scope (§5.4). */
export function idTokenClaims(auth: Authorization): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    iss: auth.issuer,
    sub: subjectOf(auth.user),
    aud: auth.client.clientId,
    azp: auth.client.clientId,
    iat: auth.now,
    exp: auth.now + defaults.idTokenTtlSeconds,
    // OpenID Connect Core §12.2: a refreshed ID token keeps the original authentication time.
    auth_time: auth.authTime ?? auth.now,
    // OpenID Connect Core §2: how the user authenticated, so a client can insist on a second factor.
    amr: [...(auth.amr ?? PASSWORD_ONLY)],
  };
  return { ...claims, ...userClaims(auth.user, auth.scopes) };
}

/** OpenID Connect Core §5.4: what the `profile` and `email` scopes release, in ID tokens and userinfo. */
export function userClaims(user: UserRecord, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes('profile')) {
    claims.preferred_username = user.username;
    // The profile a user gave at sign-up, under the standard claims' names (OpenID Connect Core §5.1).
    for (const claim of ['name', 'given_name', 'family_name', 'nickname', 'picture'] as const) {
      if (user[claim] !== undefined) claims[claim] = user[claim];
    }
    claims.updated_at = Math.floor(Date.parse(user.updated_at) / 1000);
  }
  if (scopes.includes('email') && user.email !== undefined) {
    claims.email = user.email;
    claims.email_verified = user.email_verified;
  }
  return claims;
}

/** Mints the access token and, where `openid` was granted, the ID token. */
export async function mintTokens(signer: Signer, auth: Authorization): Promise<TokenResponse> {
  // Both signatures at once: with KMS each one is a round trip.
  const [accessToken, idToken] = await Promise.all([
    signJwt(signer, 'at+jwt', accessTokenClaims(auth)),
    auth.scopes.includes('openid') ? signJwt(signer, 'JWT', idTokenClaims(auth)) : undefined,
  ]);
  return {
    access_token: accessToken,
    token_type: auth.jkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: auth.api.accessTokenTtlSeconds,
    scope: auth.scopes.join(' '),
    ...(idToken === undefined ? {} : { id_token: idToken }),
  };
}
