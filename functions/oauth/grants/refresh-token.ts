import { GRANT_REFRESH_TOKEN } from '../../config/grant-types.ts';
import { refreshAccess } from '../sessions/refresh-rotation.ts';
import type { Grant } from './grant.ts';

/** RFC 6749 §6, with rotation and reuse detection: the old token stops working at every use. */
export const refreshTokenGrant: Grant = {
  grantType: GRANT_REFRESH_TOKEN,
  requiredParameters: ['refresh_token'],
  awaitsProofClaim: true,
  handle: (request, services) => refreshAccess(request, services),
};
