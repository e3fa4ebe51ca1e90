import type { RequestInfo, Services } from '../services.ts';
import { userClaims } from '../tokens.ts';
import { authenticatedUser, type PresentedAccessToken } from './user-access.ts';

/**
 * OpenID Connect Core §5.3 userinfo: an access token with the `openid` scope (user-access.ts), and
 * the user's claims by granted scope (§5.4).
 */
export async function handleUserinfo(
  presented: PresentedAccessToken | undefined,
  proofJkt: string | undefined,
  info: RequestInfo,
  services: Services,
): Promise<Record<string, unknown>> {
  const { claims, scopes, user } = await authenticatedUser(presented, proofJkt, info, services, 'openid');
  return { sub: claims.sub, ...userClaims(user, scopes) };
}
