import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import type { Endpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { handleTokenRequest } from '../oauth/grants/token-endpoint.ts';

/** `POST /oauth/token` (RFC 6749 §3.2). */
export const tokenEndpoint: Endpoint = async (event, services) => {
  const params = parseBody(event);
  const credentials = presentedCredentials(event, params);
  const response = await handleTokenRequest(params, credentials, requestInfo(event, services), services);
  return noStoreJson(200, response);
};
