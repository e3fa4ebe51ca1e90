import type { ApiConfig, TenantConfig } from '../config/schema.ts';
import { invalidRequest } from './errors.ts';

/** Scopes passgate itself understands; every other scope belongs to an API. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** RFC 6749 §3.3: a space-delimited list of scope-tokens; order kept, duplicates dropped. */
export function parseScope(scope: string | undefined): string[] {
  if (scope === undefined || scope === '') return [];
  const tokens = scope.split(' ');
  if (!tokens.every((token) => SCOPE_TOKEN.test(token))) {
    throw invalidRequest('scope must be a space-delimited list of scope tokens (RFC 6749 section 3.3).');
  }
  return [...new Set(tokens)];
}

/**
 * `audience` (Auth0) or `resource` (RFC 8707) names the API; it defaults to `defaultAudience`.
 * An identifier that is no configured API is `invalid_request` (docs/reference.md).
 */
export function resolveApi(
  config: TenantConfig,
  audience: string | undefined,
  resource: string | undefined,
): ApiConfig {
  if (audience !== undefined && resource !== undefined && audience !== resource) {
    throw invalidRequest('audience and resource name different APIs.');
  }
  const identifier = audience ?? resource ?? config.defaultAudience;
  const api = config.apis.find((candidate) => candidate.identifier === identifier);
  if (!api) throw invalidRequest('Unknown audience.', `audience ${JSON.stringify(identifier.slice(0, 200))}`);
  return api;
}

/**
 * Granted scope = requested scopes the API defines (and, where the API enforces permissions,
 * that the user holds), plus the OIDC scopes that were requested. Never more than requested, and
 * exactly what was granted (RFC 6749 §5.1): `offline_access` only with a refresh token, which
 * `refreshTokenIssued` says (the client may have the grant, the API may allow offline access).
 */
export function grantScopes(
  requested: readonly string[],
  api: ApiConfig,
  userPermissions: readonly string[] | undefined,
  refreshTokenIssued: boolean,
): string[] {
  const held = new Set(userPermissions ?? []);
  return requested.filter((scope) => {
    if (scope === 'offline_access') return refreshTokenIssued;
    if ((OIDC_SCOPES as readonly string[]).includes(scope)) return true;
    if (!api.scopes.includes(scope)) return false;
    return !api.enforcePermissions || held.has(scope);
  });
}
