import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { challenge } from '../oauth/mfa/mfa-api.ts';

/**
 * `POST /mfa/challenge` (Auth0's MFA API): the client authenticates as at the token endpoint. A
 * browser origin the client does not allow is refused first.
 */
export const mfaChallengeEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event, ['challenge_type']);
  const credentials = presentedCredentials(event, params);
  refuseForeignOrigin(event, credentials.clientId, requestInfo(event, services), services);
  return noStoreJson(200, await challenge(params, credentials, services));
});
