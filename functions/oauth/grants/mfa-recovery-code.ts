import { GRANT_MFA_RECOVERY_CODE } from '../../config/grant-types.ts';
import { recoveryCodeFactor, secondFactorLogin } from '../mfa/second-factor.ts';
import type { Grant } from './grant.ts';

/** Auth0's mfa-recovery-code grant: the recovery code finishes the login and is replaced by a new one. */
export const mfaRecoveryCodeGrant: Grant = {
  grantType: GRANT_MFA_RECOVERY_CODE,
  requiredParameters: ['mfa_token', 'recovery_code'],
  handle: (request, services) => secondFactorLogin(request, services, recoveryCodeFactor),
};
