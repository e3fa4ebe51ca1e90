import { clientIdOfBearer, refuseForeignOrigin } from '../http/cors.ts';
import { browserEndpoint } from '../http/handler.ts';
import { header } from '../http/headers.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { handleUserinfo } from '../oauth/sessions/userinfo.ts';

/** `GET /userinfo` (OpenID Connect Core §5.3); personal data, so never cached. */
export const userinfoEndpoint = browserEndpoint('per-client', async (event, services) => {
  const authorization = header(event, 'authorization');
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, clientIdOfBearer(authorization), info, services);
  return noStoreJson(200, await handleUserinfo(authorization, info, services));
});
