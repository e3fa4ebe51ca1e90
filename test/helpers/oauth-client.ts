import * as oauth from 'oauth4webapi';
import { BACKOFFICE_SECRET } from './config.ts';
import type { TestServer } from './local-server.ts';

/** A client as oauth4webapi knows it: metadata plus how it authenticates. */
export interface App {
  readonly client: oauth.Client;
  readonly auth: oauth.ClientAuth;
}

export const mobileApp: App = { client: { client_id: 'mobile-app' }, auth: oauth.None() };
export const backoffice: App = {
  client: { client_id: 'backoffice' },
  auth: oauth.ClientSecretBasic(BACKOFFICE_SECRET),
};

/** The local server is plain HTTP on loopback; oauth4webapi wants that said out loud. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/**
 * A strict OAuth client (oauth4webapi) configured by the server's own discovery document: every
 * call goes over HTTP and every response is checked by the library, as a real app would see it.
 */
export async function oauthClient(server: TestServer) {
  const issuer = new URL(server.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }),
  );
  return {
    as,
    login: async (app: App, parameters: Record<string, string>, grantType = 'password') =>
      oauth.processGenericTokenEndpointResponse(
        as,
        app.client,
        await oauth.genericTokenEndpointRequest(as, app.client, app.auth, grantType, parameters, insecure),
      ),
    refresh: async (app: App, refreshToken: string, parameters?: Record<string, string>) =>
      oauth.processRefreshTokenResponse(
        as,
        app.client,
        await oauth.refreshTokenGrantRequest(as, app.client, app.auth, refreshToken, {
          ...insecure,
          additionalParameters: parameters,
        }),
      ),
    revoke: async (app: App, token: string, hint?: 'refresh_token' | 'access_token') =>
      oauth.processRevocationResponse(
        await oauth.revocationRequest(as, app.client, app.auth, token, {
          ...insecure,
          additionalParameters: hint ? { token_type_hint: hint } : undefined,
        }),
      ),
    introspect: async (app: App, token: string) =>
      oauth.processIntrospectionResponse(
        as,
        app.client,
        await oauth.introspectionRequest(as, app.client, app.auth, token, insecure),
      ),
    userinfo: async (accessToken: string, expectedSubject: string) =>
      oauth.processUserInfoResponse(
        as,
        mobileApp.client,
        expectedSubject,
        await oauth.userInfoRequest(as, mobileApp.client, accessToken, insecure),
      ),
  };
}

export type OAuthClient = Awaited<ReturnType<typeof oauthClient>>;
