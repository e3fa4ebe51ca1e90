import { parseBody } from '../http/body.ts';
import type { Endpoint } from '../http/handler.ts';
import { header } from '../http/headers.ts';
import { requestInfo } from '../http/request-info.ts';
import { noStoreJson } from '../http/respond.ts';
import { associate } from '../oauth/mfa/mfa-api.ts';

/** `POST /mfa/associate` (Auth0's MFA API): a new TOTP secret, shown once, never cached. */
export const mfaAssociateEndpoint: Endpoint = async (event, services) => {
  const params = parseBody(event, ['authenticator_types']);
  const answer = await associate(
    header(event, 'authorization'),
    params,
    requestInfo(event, services),
    services,
  );
  return noStoreJson(200, answer);
};
