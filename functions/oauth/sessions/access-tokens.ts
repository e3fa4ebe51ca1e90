import { createLocalJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Services } from '../services.ts';

/** The claims of an access token this server issued (RFC 9068 §2.2), once verified. */
export interface AccessTokenClaims extends JWTPayload {
  readonly sub: string;
  readonly aud: string | string[];
  readonly iat: number;
  readonly exp: number;
  readonly client_id: string;
  readonly scope: string;
}

/**
 * Verifies an access token as a resource server would (RFC 9068 §4): RS256 signature by one of the
 * signer's keys, `typ` at+jwt, this issuer, an audience that is a configured API (or one of
 * `audiences`: the MFA API's own check), not expired. Undefined for anything else, without saying
 * why: callers answer "inactive" or "invalid_token".
 */
export async function verifyAccessToken(
  services: Pick<Services, 'signer' | 'config' | 'clock'>,
  issuer: string,
  token: string,
  audiences: readonly string[] = services.config.apis.map((api) => api.identifier),
): Promise<AccessTokenClaims | undefined> {
  const keys = createLocalJWKSet({ keys: [...(await services.signer.publicJwks())] });
  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ['RS256'],
      typ: 'at+jwt',
      issuer,
      audience: [...audiences],
      currentDate: new Date(services.clock.now()),
      requiredClaims: ['sub', 'aud', 'iat', 'exp', 'client_id', 'scope'],
    });
    if (typeof payload.client_id !== 'string' || typeof payload.scope !== 'string') return undefined;
    return payload as AccessTokenClaims;
  } catch (error) {
    if (error instanceof errors.JOSEError) return undefined;
    throw error;
  }
}
