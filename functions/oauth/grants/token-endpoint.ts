import { authenticateClient, type PresentedCredentials } from '../client-auth.ts';
import { invalidRequest, OAuthError, unauthorizedClient } from '../errors.ts';
import { clientIp } from '../protection/client-ip.ts';
import type { RequestInfo, Services } from '../services.ts';
import type { TokenResponse } from '../tokens.ts';
import { grants } from './index.ts';

/**
 * RFC 6749 §3.2 token endpoint: authenticate the client, check it may use the grant, then let
 * the grant decide. Parameters a grant does not know are ignored (RFC 6749 §3.2).
 */
export async function handleTokenRequest(
  params: Readonly<Record<string, string | undefined>>,
  credentials: PresentedCredentials,
  info: RequestInfo,
  services: Services,
): Promise<TokenResponse> {
  const grantType = params.grant_type;
  if (grantType === undefined) throw invalidRequest('grant_type is required.');
  const client = authenticateClient(services.config, credentials);
  clientIp(info, client); // a malformed trusted forwarded-for is refused before any grant runs
  const grant = grants.get(grantType);
  if (!grant) {
    throw new OAuthError(400, 'unsupported_grant_type', 'The grant type is not supported by this server.');
  }
  if (!(client.grantTypes as readonly string[]).includes(grantType)) {
    throw unauthorizedClient('The client is not allowed to use this grant type.', `grant ${grantType}`);
  }
  // RFC 9449 §5: a client registered to use DPoP must not be issued unbound tokens.
  if (client.requireDpop && !info.dpop) throw invalidRequest('This client must send a DPoP proof.');
  const missing = grant.requiredParameters.filter((name) => params[name] === undefined);
  if (missing.length > 0) throw invalidRequest(`Missing parameter(s): ${missing.join(', ')}.`);
  if (!grant.awaitsProofClaim) await info.proofClaimed;
  return grant.handle({ params, client, info }, services);
}
