import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { dpopNonceHeaders, presentedDpopProof } from '../http/dpop.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { invalidDpopProof } from '../oauth/dpop/errors.ts';
import { DpopProofError } from '../oauth/dpop/proof.ts';
import { handleTokenRequest } from '../oauth/grants/token-endpoint.ts';

/**
 * `POST /oauth/token` (RFC 6749 §3.2), for apps and for pages on the client's allowed origins; a
 * foreign origin is refused first, then the DPoP proof (RFC 9449 §5) is verified before any grant,
 * and its `jti` recorded beside the grant's first round (RequestInfo.proofClaimed).
 */
export const tokenEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event);
  const credentials = presentedCredentials(event, params);
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, credentials.clientId, info, services);
  const asOAuthError = (error: unknown) =>
    error instanceof DpopProofError ? invalidDpopProof(error.reason) : error;
  const presented = await presentedDpopProof(event, services, info, {
    htm: 'POST',
    path: 'oauth/token',
    nonces: true,
  }).catch((error: unknown) => {
    throw asOAuthError(error);
  });
  // The proof's jti is recorded beside the grant's first round (RequestInfo.proofClaimed).
  const outcome = await handleTokenRequest(
    params,
    credentials,
    presented ? { ...info, dpop: { jkt: presented.proof.jkt }, proofClaimed: presented.claimed } : info,
    services,
  ).then(
    (response) => ({ response }),
    (error: unknown) => ({ error }),
  );
  // A replayed proof is answered as one, whatever the grant made of the rest of the request.
  await presented?.claimed.catch((error: unknown) => {
    throw asOAuthError(error);
  });
  if ('error' in outcome) throw asOAuthError(outcome.error);
  return noStoreJson(200, outcome.response, dpopNonceHeaders(services));
});
