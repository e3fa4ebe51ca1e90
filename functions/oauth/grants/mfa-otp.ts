import { GRANT_MFA_OTP } from '../../config/grant-types.ts';
import { otpFactor, secondFactorLogin } from '../mfa/second-factor.ts';
import type { Grant } from './grant.ts';

/** Auth0's mfa-otp grant: the `mfa_token` of a login and a TOTP code (RFC 6238) finish it. */
export const mfaOtpGrant: Grant = {
  grantType: GRANT_MFA_OTP,
  requiredParameters: ['mfa_token', 'otp'],
  handle: (request, services) => secondFactorLogin(request, services, otpFactor),
};
