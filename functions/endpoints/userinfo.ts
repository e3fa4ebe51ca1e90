import { presentedAtResource } from '../http/access-token.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { handleUserinfo } from '../oauth/sessions/userinfo.ts';

/** `GET /userinfo` (OpenID Connect Core §5.3); personal data, so never cached. */
export const userinfoEndpoint = browserEndpoint('per-client', async (event, services) => {
  const info = requestInfo(event, services);
  const { presented, proofJkt } = await presentedAtResource(event, services, info, 'userinfo');
  return noStoreJson(200, await handleUserinfo(presented, proofJkt, info, services));
});
