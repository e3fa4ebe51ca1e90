import { audit } from '../audit.ts';
import { authenticateClient, type PresentedCredentials } from '../client-auth.ts';
import { invalidRequest, OAuthError } from '../errors.ts';
import { clientIp } from '../protection/client-ip.ts';
import type { RequestInfo, Services } from '../services.ts';
import { verifyAccessToken } from './access-tokens.ts';
import { lookUpRefreshToken } from './refresh-tokens.ts';

/**
 * RFC 7009 token revocation. A refresh token ends its whole rotation family, whichever of its
 * tokens (current or rotated out) is presented. Unknown tokens are answered like a success and
 * change nothing (RFC 7009 §2.2: an invalid token is no error). So are tokens of another client: a
 * deliberate departure from RFC 7009 §2.1, which refuses them with an error, because that error
 * would tell the other client the token exists (docs/sessions.md, "Signing out: revocation"). `token_type_hint` is only a hint
 * (RFC 7009 §2.1): every token type is looked at whatever it says.
 */
export async function handleRevocation(
  params: Readonly<Record<string, string | undefined>>,
  credentials: PresentedCredentials,
  info: RequestInfo,
  services: Services,
): Promise<void> {
  const client = authenticateClient(services.config, credentials);
  const ip = clientIp(info, client); // refused before anything is looked up, like every endpoint
  const token = params.token;
  if (token === undefined) throw invalidRequest('token is required.');

  const found = await lookUpRefreshToken(services, token, { user: 'none' });
  if (found.family) {
    if (found.family.client_id === client.clientId) {
      await services.refreshTokens.revokeFamily(found.family.family_id, services.clock.now());
      audit(services.logger, info, {
        type: 'srrt',
        description: 'Refresh token revoked: its family ended',
        client_id: client.clientId,
        realm: found.family.realm,
        user_id: found.family.user_id,
        ip,
      });
    }
    return;
  }
  // RFC 7009 §2.2.1: access tokens are self-contained JWTs that expire on their own. Only their
  // own client is told so; to any other client they are tokens it cannot revoke, like unknown ones.
  const accessToken = await verifyAccessToken(services, info.issuer, token);
  if (accessToken?.client_id === client.clientId) {
    throw new OAuthError(
      400,
      'unsupported_token_type',
      'Access tokens cannot be revoked; they expire on their own. Revoke the refresh token.',
    );
  }
}
