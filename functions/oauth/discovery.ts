import { grantTypes } from '../config/grant-types.ts';
import type { TenantConfig } from '../config/schema.ts';
import { DPOP_ALGORITHMS } from './dpop/algorithms.ts';
import { OIDC_SCOPES } from './scopes.ts';

/**
 * OpenID Connect Discovery 1.0 §3 metadata, served also as RFC 8414 authorization server metadata.
 * Only what this server really does is listed; there is no authorization endpoint (password grants only).
 */
export function discoveryDocument(issuer: string, config: TenantConfig): Record<string, unknown> {
  const apiScopes = config.apis.flatMap((api) => api.scopes);
  return {
    issuer,
    token_endpoint: `${issuer}oauth/token`,
    jwks_uri: `${issuer}.well-known/jwks.json`,
    userinfo_endpoint: `${issuer}userinfo`,
    revocation_endpoint: `${issuer}oauth/revoke`,
    introspection_endpoint: `${issuer}oauth/introspect`,
    // The grant types the token endpoint serves (grants/index.ts), without loading the grants here.
    grant_types_supported: [...grantTypes],
    response_types_supported: [],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    // RFC 9449 §5.1: proofs are accepted at the token endpoint and userinfo with these algorithms.
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    // RFC 7662 §2.1: introspection needs real client authentication, so public clients ("none") are out.
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: [...new Set([...OIDC_SCOPES, ...apiScopes])],
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'azp',
      'name',
      'preferred_username',
      'updated_at',
      'email',
      'email_verified',
    ],
  };
}
