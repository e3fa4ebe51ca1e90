import { clientIdOfBearer, refuseForeignOrigin } from '../http/cors.ts';
import { checkDpopProof } from '../http/dpop.ts';
import { browserEndpoint } from '../http/handler.ts';
import { header } from '../http/headers.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { DpopProofError } from '../oauth/dpop/proof.ts';
import {
  handleUserinfo,
  invalidDpopProofAtResource,
  presentedAccessToken,
} from '../oauth/sessions/userinfo.ts';

/**
 * `GET /userinfo` (OpenID Connect Core §5.3); personal data, so never cached. A foreign origin is
 * refused first; with the `DPoP` scheme the proof (with `ath`, RFC 9449 §7.1) is checked before
 * the token is looked at.
 */
export const userinfoEndpoint = browserEndpoint('per-client', async (event, services) => {
  const authorization = header(event, 'authorization');
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, clientIdOfBearer(authorization), info, services);
  const presented = presentedAccessToken(authorization);
  const proof =
    presented?.scheme === 'DPoP'
      ? await checkDpopProof(event, services, info, {
          htm: event.httpMethod,
          path: 'userinfo',
          accessToken: presented.token,
          nonces: false,
        }).catch((error: unknown) => {
          throw error instanceof DpopProofError ? invalidDpopProofAtResource(error.reason) : error;
        })
      : undefined;
  return noStoreJson(200, await handleUserinfo(presented, proof?.jkt, info, services));
});
