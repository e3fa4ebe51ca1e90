import { accountDeleteEndpoint } from './endpoints/account-delete.ts';
import { changePasswordEndpoint } from './endpoints/change-password.ts';
import { introspectEndpoint } from './endpoints/introspect.ts';
import { metadataEndpoint } from './endpoints/metadata.ts';
import { mfaAssociateEndpoint } from './endpoints/mfa-associate.ts';
import { mfaAuthenticatorsEndpoint } from './endpoints/mfa-authenticators.ts';
import { mfaChallengeEndpoint } from './endpoints/mfa-challenge.ts';
import { resetPasswordEndpoint } from './endpoints/reset-password.ts';
import { revokeEndpoint } from './endpoints/revoke.ts';
import { signupEndpoint } from './endpoints/signup.ts';
import { tokenEndpoint } from './endpoints/token.ts';
import { userinfoEndpoint } from './endpoints/userinfo.ts';
import { verifyEmailEndpoint } from './endpoints/verify-email.ts';
import type { Endpoint } from './http/handler.ts';

/**
 * One Lambda function per endpoint; the stack and the local server both route by this table.
 * A new endpoint also needs its entry point in functions/handlers/<name>.ts and its IAM and memory
 * in endpoint-needs.ts (TypeScript and the build refuse it otherwise); the stack picks it up from there.
 */
export const endpoints = {
  token: tokenEndpoint,
  revoke: revokeEndpoint,
  introspect: introspectEndpoint,
  userinfo: userinfoEndpoint,
  metadata: metadataEndpoint,
  'mfa-authenticators': mfaAuthenticatorsEndpoint,
  'mfa-associate': mfaAssociateEndpoint,
  'mfa-challenge': mfaChallengeEndpoint,
  'account-delete': accountDeleteEndpoint,
  'change-password': changePasswordEndpoint,
  'reset-password': resetPasswordEndpoint,
  signup: signupEndpoint,
  'verify-email': verifyEmailEndpoint,
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof endpoints;

/** The accounts endpoints (docs/accounts.md): the web ACL gives their routes a rate rule of their own. */
export const accountEndpoints: readonly EndpointName[] = [
  'signup',
  'verify-email',
  'account-delete',
  'change-password',
  'reset-password',
];

export interface Route {
  readonly method: 'GET' | 'POST' | 'OPTIONS';
  /** Relative to the issuer, which ends in "/". */
  readonly path: string;
  readonly endpoint: EndpointName;
}

const requestRoutes: readonly Route[] = [
  { method: 'POST', path: 'oauth/token', endpoint: 'token' },
  { method: 'POST', path: 'oauth/revoke', endpoint: 'revoke' },
  { method: 'POST', path: 'oauth/introspect', endpoint: 'introspect' },
  { method: 'GET', path: 'userinfo', endpoint: 'userinfo' },
  // OpenID Connect Core §5.3.1: the userinfo endpoint MUST support POST as well (token still in the header).
  { method: 'POST', path: 'userinfo', endpoint: 'userinfo' },
  { method: 'GET', path: '.well-known/jwks.json', endpoint: 'metadata' },
  { method: 'GET', path: '.well-known/openid-configuration', endpoint: 'metadata' },
  { method: 'GET', path: '.well-known/oauth-authorization-server', endpoint: 'metadata' },
  // Auth0's MFA API, with the `mfa_token` of a login waiting for its second factor (docs/mfa.md).
  { method: 'GET', path: 'mfa/authenticators', endpoint: 'mfa-authenticators' },
  { method: 'POST', path: 'mfa/associate', endpoint: 'mfa-associate' },
  { method: 'POST', path: 'mfa/challenge', endpoint: 'mfa-challenge' },
  // A signed-in user deletes their own account (docs/accounts.md).
  { method: 'POST', path: 'account/delete', endpoint: 'account-delete' },
  // Forgotten passwords (docs/accounts.md): Auth0's request for a reset mail, and the page it links to.
  { method: 'POST', path: 'dbconnections/change_password', endpoint: 'change-password' },
  { method: 'GET', path: 'reset-password', endpoint: 'reset-password' },
  { method: 'POST', path: 'reset-password', endpoint: 'reset-password' },
  // Auth0's sign-up, and the hosted page its verification mail links to (docs/accounts.md).
  { method: 'POST', path: 'dbconnections/signup', endpoint: 'signup' },
  { method: 'GET', path: 'verify-email', endpoint: 'verify-email' },
];

/**
 * Every route, with an `OPTIONS` route (the CORS preflight) on each path of an endpoint browsers
 * may call: the path's own function answers it before its endpoint runs (http/handler.ts).
 */
export const routes: readonly Route[] = [
  ...requestRoutes,
  ...[...new Map(requestRoutes.map((route) => [route.path, route])).values()]
    .filter((route) => (endpoints[route.endpoint] as Endpoint).cors !== undefined)
    .map((route): Route => ({ method: 'OPTIONS', path: route.path, endpoint: route.endpoint })),
];
