import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';

export interface PassgateJwtAuthorizerProps {
  /** The passgate issuer, with its trailing slash: the stack's `Issuer` output or `PassgateStack.issuer`. */
  readonly issuer: string;
  /** The API identifier(s) (`aud`) this API accepts, as configured in `apis` of passgate.config.json. */
  readonly audience: string | readonly string[];
  /** @default the construct id */
  readonly authorizerName?: string;
}

/**
 * An API Gateway HTTP API JWT authorizer that accepts passgate's access tokens (RFC 9068 JWTs): it
 * finds the keys through `<issuer>.well-known/openid-configuration`, checks the RS256 signature,
 * `iss` (exactly, trailing slash included), `aud`, `exp` and `nbf`. Add `authorizationScopes` to
 * a route to require a scope from the token's `scope` claim.
 *
 * ```ts
 * api.addRoutes({
 *   path: '/orders', methods: [HttpMethod.GET], integration,
 *   authorizer: passgateJwtAuthorizer('Passgate', { issuer, audience: 'https://api.example.com/' }),
 *   authorizationScopes: ['read:orders'],
 * });
 * ```
 */
export function passgateJwtAuthorizer(id: string, props: PassgateJwtAuthorizerProps): HttpJwtAuthorizer {
  const audience = typeof props.audience === 'string' ? [props.audience] : [...props.audience];
  return new HttpJwtAuthorizer(id, props.issuer, {
    jwtAudience: audience,
    identitySource: ['$request.header.Authorization'],
    ...(props.authorizerName ? { authorizerName: props.authorizerName } : {}),
  });
}
