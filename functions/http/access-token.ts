import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DpopProofError } from '../oauth/dpop/proof.ts';
import type { RequestInfo, Services } from '../oauth/services.ts';
import {
  invalidDpopProofAtResource,
  type PresentedAccessToken,
  presentedAccessToken,
} from '../oauth/sessions/user-access.ts';
import { clientIdOfBearer, refuseForeignOrigin } from './cors.ts';
import { checkDpopProof } from './dpop.ts';
import { header } from './headers.ts';

/** What a request to one of passgate's own resources presented, its DPoP proof already checked. */
export interface ResourceCredentials {
  readonly presented: PresentedAccessToken | undefined;
  /** The key the request's DPoP proof was made with; undefined without the `DPoP` scheme. */
  readonly proofJkt: string | undefined;
}

/**
 * The HTTP part of a call to userinfo or account deletion: a foreign origin is refused first (held
 * to the list of the client the token names); with the `DPoP` scheme the proof (with `ath`,
 * RFC 9449 §7.1) is checked before the token is looked at. `path` is the resource's path under
 * the issuer, which the proof's `htu` must name.
 */
export async function presentedAtResource(
  event: APIGatewayProxyEvent,
  services: Services,
  info: RequestInfo,
  path: string,
): Promise<ResourceCredentials> {
  const authorization = header(event, 'authorization');
  refuseForeignOrigin(event, clientIdOfBearer(authorization), info, services);
  const presented = presentedAccessToken(authorization);
  const proof =
    presented?.scheme === 'DPoP'
      ? await checkDpopProof(event, services, info, {
          htm: event.httpMethod,
          path,
          accessToken: presented.token,
          nonces: false,
        }).catch((error: unknown) => {
          throw error instanceof DpopProofError ? invalidDpopProofAtResource(error.reason) : error;
        })
      : undefined;
  return { presented, proofJkt: proof?.jkt };
}
