import { GRANT_PASSWORD } from '../../config/grant-types.ts';
import { passwordLogin } from '../passwords/login.ts';
import type { Grant } from './grant.ts';

/** RFC 6749 §4.3, in the tenant's `defaultRealm` (docs/reference.md). */
export const passwordGrant: Grant = {
  grantType: GRANT_PASSWORD,
  requiredParameters: ['username', 'password'],
  awaitsProofClaim: true,
  handle: (request, services) => passwordLogin(request, services, services.config.defaultRealm, 'password'),
};
