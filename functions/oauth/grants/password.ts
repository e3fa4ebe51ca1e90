import { GRANT_PASSWORD } from '../../config/grant-types.ts';
import { passwordLogin } from '../passwords/login.ts';
import type { Grant } from './grant.ts';

/** RFC 6749 §4.3: the tenant's default realm (CONTRACT §3). */
export const passwordGrant: Grant = {
  grantType: GRANT_PASSWORD,
  requiredParameters: ['username', 'password'],
  handle: (request, services) => passwordLogin(request, services, services.config.defaultRealm, 'password'),
};
