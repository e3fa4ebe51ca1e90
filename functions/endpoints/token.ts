import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { handleTokenRequest } from '../oauth/grants/token-endpoint.ts';

/** `POST /oauth/token` (RFC 6749 §3.2), for apps and for pages on the client's allowed origins. */
export const tokenEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event);
  const credentials = presentedCredentials(event, params);
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, credentials.clientId, info, services);
  return noStoreJson(200, await handleTokenRequest(params, credentials, info, services));
});
