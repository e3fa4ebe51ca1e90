import { refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { header } from '../http/headers.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { listAuthenticators } from '../oauth/mfa/mfa-api.ts';

/**
 * `GET /mfa/authenticators` (Auth0's MFA API), `Authorization: Bearer <mfa_token>`. Browsers may
 * call it from the origins the `mfa_token`'s client allows.
 */
export const mfaAuthenticatorsEndpoint = browserEndpoint('per-client', async (event, services) => {
  const info = requestInfo(event, services);
  const authenticators = await listAuthenticators(
    header(event, 'authorization'),
    info,
    services,
    (clientId) => refuseForeignOrigin(event, clientId, info, services),
  );
  return noStoreJson(200, authenticators);
});
