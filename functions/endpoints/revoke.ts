import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreEmpty } from '../http/respond.ts';
import { handleRevocation } from '../oauth/sessions/revocation.ts';

/** `POST /oauth/revoke` (RFC 7009 §2.1): client authentication as at the token endpoint. */
export const revokeEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event);
  const credentials = presentedCredentials(event, params);
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, credentials.clientId, info, services);
  await handleRevocation(params, credentials, info, services);
  return noStoreEmpty(200);
});
