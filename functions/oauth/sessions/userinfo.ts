import { bearerToken } from '../bearer.ts';
import { OAuthError } from '../errors.ts';
import type { RequestInfo, Services } from '../services.ts';
import { userClaims } from '../tokens.ts';
import { verifyAccessToken } from './access-tokens.ts';

const challenge = (fields: string) => ({ 'WWW-Authenticate': `Bearer realm="passgate"${fields}` });

/** RFC 6750 §3.1: 401 with the `invalid_token` challenge, whatever was wrong with the token. */
const invalidToken = (detail: string) =>
  new OAuthError(
    401,
    'invalid_token',
    'The access token is invalid or expired.',
    detail,
    challenge(', error="invalid_token", error_description="The access token is invalid or expired."'),
  );

/**
 * OpenID Connect Core §5.3 userinfo: the bearer access token from the Authorization header only
 * (RFC 6750 §2.1; never from a query string, which ends up in logs), issued by this server with
 * the `openid` scope; claims by granted scope (§5.4), for a user who still exists and is not blocked.
 */
export async function handleUserinfo(
  authorization: string | undefined,
  info: RequestInfo,
  services: Services,
): Promise<Record<string, unknown>> {
  const token = bearerToken(authorization);
  if (token === undefined) {
    // RFC 6750 §3.1: a request with no credentials at all gets the challenge without an error code.
    throw new OAuthError(
      401,
      'invalid_token',
      'A bearer access token is required.',
      undefined,
      challenge(''),
    );
  }
  const claims = await verifyAccessToken(services, info.issuer, token);
  if (!claims) throw invalidToken('access token failed verification');
  const scopes = claims.scope.split(' ');
  if (!scopes.includes('openid')) {
    throw new OAuthError(
      403,
      'insufficient_scope',
      'The access token was not granted the openid scope.',
      undefined,
      challenge(', error="insufficient_scope", scope="openid"'),
    );
  }
  const separator = claims.sub.indexOf('|');
  const realm = claims.sub.slice(0, separator);
  const user =
    separator > 0 && services.config.realms.some((candidate) => candidate.name === realm)
      ? await services.users.findById(realm, claims.sub.slice(separator + 1))
      : undefined;
  if (!user) throw invalidToken('the user no longer exists');
  if (user.blocked) throw invalidToken('the user is blocked');
  return { sub: claims.sub, ...userClaims(user, scopes) };
}
