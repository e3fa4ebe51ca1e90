import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import type { Endpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreEmpty } from '../http/respond.ts';
import { handleRevocation } from '../oauth/sessions/revocation.ts';

/** `POST /oauth/revoke` (RFC 7009 §2.1): client authentication as at the token endpoint. */
export const revokeEndpoint: Endpoint = async (event, services) => {
  const params = parseBody(event);
  const credentials = presentedCredentials(event, params);
  await handleRevocation(params, credentials, requestInfo(event, services), services);
  return noStoreEmpty(200);
};
