import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import type { Endpoint } from '../http/handler.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { handleIntrospection } from '../oauth/sessions/introspection.ts';

/** `POST /oauth/introspect` (RFC 7662 §2.1): confidential clients, authenticated as at the token endpoint. */
export const introspectEndpoint: Endpoint = async (event, services) => {
  const params = parseBody(event);
  const credentials = presentedCredentials(event, params);
  return noStoreJson(
    200,
    await handleIntrospection(params, credentials, requestInfo(event, services), services),
  );
};
