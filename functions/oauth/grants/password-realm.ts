import { GRANT_PASSWORD_REALM } from '../../config/grant-types.ts';
import { passwordLogin } from '../passwords/login.ts';
import type { Grant } from './grant.ts';

/** Auth0's password-realm extension grant (RFC 6749 §4.5): `realm` picks the user directory. */
export const passwordRealmGrant: Grant = {
  grantType: GRANT_PASSWORD_REALM,
  requiredParameters: ['username', 'password', 'realm'],
  awaitsProofClaim: true,
  handle: (request, services) =>
    passwordLogin(request, services, request.params.realm as string, 'password-realm'),
};
