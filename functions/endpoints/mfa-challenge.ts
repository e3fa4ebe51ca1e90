import { parseBody } from '../http/body.ts';
import { presentedCredentials } from '../http/client-credentials.ts';
import type { Endpoint } from '../http/handler.ts';
import { noStoreJson } from '../http/respond.ts';
import { challenge } from '../oauth/mfa/mfa-api.ts';

/** `POST /mfa/challenge` (Auth0's MFA API): the client authenticates as at the token endpoint. */
export const mfaChallengeEndpoint: Endpoint = async (event, services) => {
  const params = parseBody(event, ['challenge_type']);
  return noStoreJson(200, await challenge(params, presentedCredentials(event, params), services));
};
