/**
 * The grant types a client may be allowed (`grantTypes` in the tenant config). Apart from the
 * schema so that the grants, which the Lambda bundles carry, do not import zod.
 */
export const GRANT_PASSWORD = 'password';
export const GRANT_PASSWORD_REALM = 'http://auth0.com/oauth/grant-type/password-realm';
export const GRANT_REFRESH_TOKEN = 'refresh_token';
/** Auth0's MFA grants: a login that answered `mfa_required` finishes with a code. */
export const GRANT_MFA_OTP = 'http://auth0.com/oauth/grant-type/mfa-otp';
export const GRANT_MFA_RECOVERY_CODE = 'http://auth0.com/oauth/grant-type/mfa-recovery-code';
export const grantTypes = [
  GRANT_PASSWORD,
  GRANT_PASSWORD_REALM,
  GRANT_REFRESH_TOKEN,
  GRANT_MFA_OTP,
  GRANT_MFA_RECOVERY_CODE,
] as const;
export type GrantType = (typeof grantTypes)[number];
