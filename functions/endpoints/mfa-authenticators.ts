import type { Endpoint } from '../http/handler.ts';
import { header } from '../http/headers.ts';
import { noStoreJson } from '../http/respond.ts';
import { listAuthenticators } from '../oauth/mfa/mfa-api.ts';

/** `GET /mfa/authenticators` (Auth0's MFA API), `Authorization: Bearer <mfa_token>`. */
export const mfaAuthenticatorsEndpoint: Endpoint = async (event, services) =>
  noStoreJson(200, await listAuthenticators(header(event, 'authorization'), services));
