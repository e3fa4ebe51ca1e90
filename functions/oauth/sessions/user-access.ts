import type { ClientConfig } from '../../config/schema.ts';
import { DPOP_ALGORITHMS } from '../dpop/algorithms.ts';
import { OAuthError } from '../errors.ts';
import type { UserRecord } from '../ports.ts';
import type { RequestInfo, Services } from '../services.ts';
import { type AccessTokenClaims, verifyAccessToken } from './access-tokens.ts';

/**
 * How passgate's own protected resources (userinfo, account deletion) know who calls them: the
 * access token from the Authorization header, checked as a resource server checks it.
 */

/** An access token as the Authorization header presented it: RFC 6750 §2.1 or RFC 9449 §7.1. */
export interface PresentedAccessToken {
  readonly scheme: 'Bearer' | 'DPoP';
  readonly token: string;
}

/** `Bearer` or `DPoP` followed by a token68 (RFC 9110 §11.2; RFC 6750 §2.1, RFC 9449 §7.1). */
const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function presentedAccessToken(authorization: string | undefined): PresentedAccessToken | undefined {
  const match = authorization === undefined ? null : AUTHORIZATION.exec(authorization);
  if (!match?.[1] || !match[2]) return undefined;
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
}

const BEARER = 'Bearer realm="passgate"';
/** RFC 9449 §7.1: the DPoP challenge names the algorithms a proof may use. */
const DPOP = `DPoP algs="${DPOP_ALGORITHMS.join(' ')}"`;

const refusal =
  (status: 401 | 403, error: 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof') =>
  (description: string, detail: string | undefined, challenge: string) =>
    new OAuthError(status, error, description, detail, { 'WWW-Authenticate': challenge });

const TOKEN_INVALID = 'The access token is invalid or expired.';

/** RFC 6750 §3.1 and RFC 9449 §7.1: 401 with the challenge of the scheme the token came with. */
const invalidToken = (scheme: PresentedAccessToken['scheme'], detail: string) =>
  refusal(401, 'invalid_token')(
    TOKEN_INVALID,
    detail,
    `${scheme === 'DPoP' ? DPOP : BEARER}, error="invalid_token", error_description="${TOKEN_INVALID}"`,
  );

/** RFC 9449 §7.1: a proof that is missing or wrong at a protected resource. */
export const invalidDpopProofAtResource = (detail: string) =>
  refusal(401, 'invalid_dpop_proof')(
    'The DPoP proof is invalid.',
    detail,
    `${DPOP}, error="invalid_dpop_proof", error_description="The DPoP proof is invalid."`,
  );

/** Who an accepted access token speaks for, and the client it was issued to. */
export interface UserAccess {
  readonly claims: AccessTokenClaims;
  readonly scopes: readonly string[];
  readonly user: UserRecord;
  /** Undefined when the client is no longer configured. */
  readonly client: ClientConfig | undefined;
}

/**
 * The access token from the Authorization header only (RFC 6750 §2.1; never from a query string,
 * which ends up in logs), issued by this server, holding `requiredScope` where one is named, for a
 * user who still exists and is not blocked. A token bound to a DPoP key (`cnf.jkt`) is accepted
 * only as `DPoP` with a proof of that key (`proofJkt`, checked by the HTTP layer with `ath`), never
 * as a bearer token (RFC 9449 §7.1).
 */
export async function authenticatedUser(
  presented: PresentedAccessToken | undefined,
  proofJkt: string | undefined,
  info: RequestInfo,
  services: Services,
  requiredScope?: string,
): Promise<UserAccess> {
  if (presented === undefined) {
    // RFC 6750 §3.1, RFC 9449 §7.2: no credentials at all get both challenges, without an error code.
    throw refusal(401, 'invalid_token')('An access token is required.', undefined, `${BEARER}, ${DPOP}`);
  }
  const claims = await verifyAccessToken(services, info.issuer, presented.token);
  if (!claims) throw invalidToken(presented.scheme, 'access token failed verification');
  const boundTo = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
  if (presented.scheme === 'Bearer' && boundTo !== undefined) {
    throw invalidToken('DPoP', 'DPoP-bound access token presented as a bearer token');
  }
  if (presented.scheme === 'DPoP') {
    if (boundTo === undefined)
      throw invalidToken('DPoP', 'bearer access token presented with the DPoP scheme');
    if (proofJkt === undefined) throw invalidDpopProofAtResource('no DPoP proof');
    if (proofJkt !== boundTo)
      throw invalidToken('DPoP', 'DPoP proof by another key than the token is bound to');
  }
  const scopes = claims.scope.split(' ');
  if (requiredScope !== undefined && !scopes.includes(requiredScope)) {
    throw refusal(403, 'insufficient_scope')(
      `The access token was not granted the ${requiredScope} scope.`,
      undefined,
      `${presented.scheme === 'DPoP' ? DPOP : BEARER}, error="insufficient_scope", scope="${requiredScope}"`,
    );
  }
  const separator = claims.sub.indexOf('|');
  const realm = claims.sub.slice(0, separator);
  const user =
    separator > 0 && services.config.realms.some((candidate) => candidate.name === realm)
      ? await services.users.findById(realm, claims.sub.slice(separator + 1))
      : undefined;
  if (!user) throw invalidToken(presented.scheme, 'the user no longer exists');
  if (user.blocked) throw invalidToken(presented.scheme, 'the user is blocked');
  const client = services.config.clients.find((candidate) => candidate.clientId === claims.client_id);
  return { claims, scopes, user, client };
}
