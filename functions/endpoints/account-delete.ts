import { presentedAtResource } from '../http/access-token.ts';
import { parseBody } from '../http/body.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreEmpty } from '../http/respond.ts';
import { deleteOwnAccount } from '../oauth/accounts/account-deletion.ts';
import { authenticatedUser } from '../oauth/sessions/user-access.ts';

/**
 * `POST /account/delete` (docs/reference.md): the user's access token (Bearer, or DPoP for a bound
 * token), then a JSON or form body with the current `password`. The token is checked before the
 * body is read, so a request without one gets its 401 and `WWW-Authenticate` whatever it sent.
 */
export const accountDeleteEndpoint = browserEndpoint('per-client', async (event, services) => {
  const info = requestInfo(event, services);
  const { presented, proofJkt } = await presentedAtResource(event, services, info, 'account/delete');
  const access = await authenticatedUser(presented, proofJkt, info, services);
  await deleteOwnAccount(access, parseBody(event), info, services);
  return noStoreEmpty(204);
});
