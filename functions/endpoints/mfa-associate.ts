import { parseBody } from '../http/body.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { header } from '../http/headers.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { associate } from '../oauth/mfa/mfa-api.ts';

/**
 * `POST /mfa/associate` (Auth0's MFA API): a new TOTP secret, shown once, never cached. Browsers
 * may call it from the origins the `mfa_token`'s client allows.
 */
export const mfaAssociateEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event, ['authenticator_types']);
  const info = requestInfo(event, services);
  const answer = await associate(header(event, 'authorization'), params, info, services, (clientId) =>
    refuseForeignOrigin(event, clientId, info, services),
  );
  return noStoreJson(200, answer);
});
