import { authenticateClient, type PresentedCredentials } from '../client-auth.ts';
import { invalidClient, invalidRequest } from '../errors.ts';
import type { RequestInfo, Services } from '../services.ts';
import { subjectOf } from '../tokens.ts';
import { verifyAccessToken } from './access-tokens.ts';
import { classifyRefreshToken, lookUpRefreshToken, sessionUserProblem } from './refresh-tokens.ts';

/** RFC 7662 §2.2: anything not active is just this, with no reason given. */
const INACTIVE = { active: false } as const;

const seconds = (epochMs: number) => Math.floor(epochMs / 1000);

/**
 * RFC 7662 token introspection, for confidential clients only (§2.1: the endpoint MUST require
 * authorisation, and a public client's `client_id` proves nothing). Refresh tokens are answered
 * from the store, and only to the client they were issued to; access tokens by signature, issuer,
 * audience and expiry, to the client they were issued to, or to any client whose `introspection`
 * is `all` (a gateway in front of the APIs). RFC 7662 §4: to everyone else a token is exactly
 * `{"active": false}`, which tells nothing about it. Introspection never changes anything: a
 * rotated-out refresh token is simply inactive here, not a reuse.
 */
export async function handleIntrospection(
  params: Readonly<Record<string, string | undefined>>,
  credentials: PresentedCredentials,
  info: RequestInfo,
  services: Services,
): Promise<Record<string, unknown>> {
  const client = authenticateClient(services.config, credentials);
  if (client.clientSecretHash === undefined) {
    throw invalidClient('a public client may not introspect', credentials.method === 'client_secret_basic');
  }
  const token = params.token;
  if (token === undefined) throw invalidRequest('token is required.');

  // Introspection holds no server secret: the user's key comes from the family, read first.
  const found = await lookUpRefreshToken(services, token, { user: 'after' });
  if (found.family) {
    const now = services.clock.now();
    // No leeway: only the current token of a family is active.
    const presented = classifyRefreshToken(
      { value: token, hash: found.hash },
      found,
      client.clientId,
      now,
      { ...services.config.refreshTokens, reuseLeewaySeconds: 0 },
      services.counterHashKey, // unused: without a leeway no seal is opened
    );
    if (presented.state !== 'current' || sessionUserProblem(presented.family, found.user)) return INACTIVE;
    const { family } = presented;
    return {
      active: true,
      // Not an access token type (RFC 6749 §5.1): the name the token type hints registry gives it.
      token_type: 'refresh_token',
      scope: family.scope.join(' '),
      client_id: family.client_id,
      username: found.user?.username,
      sub: subjectOf(family),
      aud: family.audience,
      iss: info.issuer,
      iat: seconds(presented.issuedAt),
      exp: seconds(presented.idleExpiresAt),
      ...(family.jkt === undefined ? {} : { cnf: { jkt: family.jkt } }),
    };
  }
  const claims = await verifyAccessToken(services, info.issuer, token);
  if (!claims) return INACTIVE;
  if (client.introspection === 'own' && claims.client_id !== client.clientId) return INACTIVE;
  return {
    active: true,
    // RFC 7662 §2.2: the access token's type as in RFC 6749 §5.1; RFC 9449 §6.2: `DPoP` and its `cnf`.
    token_type: claims.cnf === undefined ? 'Bearer' : 'DPoP',
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    iat: claims.iat,
    exp: claims.exp,
    jti: claims.jti,
    ...(claims.gty === undefined ? {} : { gty: claims.gty }),
    ...(claims.permissions === undefined ? {} : { permissions: claims.permissions }),
    ...(claims.cnf === undefined ? {} : { cnf: claims.cnf }),
  };
}
