import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import { refuseForeignOrigin } from '../http/cors.ts';
import { checkDpopProof, dpopNonceHeaders } from '../http/dpop.ts';
import { browserEndpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { invalidDpopProof } from '../oauth/dpop/errors.ts';
import { DpopProofError } from '../oauth/dpop/proof.ts';
import { handleTokenRequest } from '../oauth/grants/token-endpoint.ts';

/**
 * `POST /oauth/token` (RFC 6749 §3.2), for apps and for pages on the client's allowed origins; a
 * foreign origin is refused first, then the DPoP proof (RFC 9449 §5) is checked, before any grant.
 */
export const tokenEndpoint = browserEndpoint('per-client', async (event, services) => {
  const params = parseBody(event);
  const credentials = presentedCredentials(event, params);
  const info = requestInfo(event, services);
  refuseForeignOrigin(event, credentials.clientId, info, services);
  const proof = await checkDpopProof(event, services, info, {
    htm: 'POST',
    path: 'oauth/token',
    nonces: true,
  }).catch((error: unknown) => {
    throw error instanceof DpopProofError ? invalidDpopProof(error.reason) : error;
  });
  const response = await handleTokenRequest(
    params,
    credentials,
    proof ? { ...info, dpop: { jkt: proof.jkt } } : info,
    services,
  );
  return noStoreJson(200, response, dpopNonceHeaders(services));
});
