import { checkDpopProof } from '../http/dpop.ts';
import type { Endpoint } from '../http/handler.ts';
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
 * `GET /userinfo` (OpenID Connect Core §5.3); personal data, so never cached. With the `DPoP`
 * scheme the proof (with `ath`, RFC 9449 §7.1) is checked before the token is looked at.
 */
export const userinfoEndpoint: Endpoint = async (event, services) => {
  const info = requestInfo(event, services);
  const presented = presentedAccessToken(header(event, 'authorization'));
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
};
