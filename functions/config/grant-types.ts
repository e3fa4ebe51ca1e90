/**
 * The grant types a client may be allowed (`grantTypes` in the tenant config). Apart from the
 * schema so that the grants, which the Lambda bundles carry, do not import zod.
 */
export const GRANT_PASSWORD = 'password';
export const GRANT_PASSWORD_REALM = 'http://auth0.com/oauth/grant-type/password-realm';
export const GRANT_REFRESH_TOKEN = 'refresh_token';
export const grantTypes = [GRANT_PASSWORD, GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN] as const;
export type GrantType = (typeof grantTypes)[number];
