import { defaults } from '../../config/defaults.ts';
import { GRANT_MFA_OTP } from '../../config/grant-types.ts';
import type { ApiConfig, ClientConfig, TenantConfig } from '../../config/schema.ts';
import { OAuthError } from '../errors.ts';
import { resolveApi } from '../scopes.ts';

/** Auth0's MFA API audience and the one scope it grants: enrolment from the app, after a login. */
export const mfaAudience = (issuer: string) => `${issuer}mfa/`;
export const ENROLL_SCOPE = 'enroll';

/**
 * The built-in MFA API (no config needed): tokens for it are short-lived like any access token,
 * never come with a refresh token, and carry `enroll` only. Only `mfa/associate` and
 * `mfa/authenticators` accept them (mfa-api.ts); every configured API's checks refuse the audience.
 */
const mfaApi = (issuer: string): ApiConfig => ({
  identifier: mfaAudience(issuer),
  scopes: [ENROLL_SCOPE],
  accessTokenTtlSeconds: defaults.accessTokenTtlSeconds,
  allowOfflineAccess: false,
  enforcePermissions: false,
});

/** The API a login asks for: a configured one, or the MFA API for a client allowed the MFA grants. */
export function loginApi(
  config: TenantConfig,
  client: ClientConfig,
  issuer: string,
  audience: string | undefined,
  resource: string | undefined,
): ApiConfig {
  const mfa = mfaAudience(issuer);
  if ((audience ?? resource) !== mfa) return resolveApi(config, audience, resource);
  if (!(client.grantTypes as readonly string[]).includes(GRANT_MFA_OTP)) {
    throw new OAuthError(
      403,
      'access_denied',
      'The client may not use the MFA API.',
      `client ${client.clientId}`,
    );
  }
  return resolveApi({ ...config, apis: [mfaApi(issuer)] }, audience, resource);
}

/** The scopes a login may ask of an API: the MFA API takes `enroll` and nothing else. */
export function loginScopes(api: ApiConfig, issuer: string, requested: readonly string[]): readonly string[] {
  if (api.identifier !== mfaAudience(issuer)) return requested;
  if (!requested.includes(ENROLL_SCOPE)) {
    throw new OAuthError(400, 'invalid_scope', 'The MFA API grants the scope enroll.');
  }
  return [ENROLL_SCOPE];
}

/** The API behind an `mfa_token`'s audience, the MFA API included. */
export const apiOfAudience = (config: TenantConfig, issuer: string, audience: string) =>
  audience === mfaAudience(issuer)
    ? mfaApi(issuer)
    : config.apis.find((candidate) => candidate.identifier === audience);
