import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { API, BACKOFFICE_SECRET } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

let server: TestServer;
const PASSWORD = 'correct horse battery staple';
// The local server speaks plain HTTP on loopback; the library demands HTTPS unless told otherwise.
const insecure = { [oauth.allowInsecureRequests]: true };

beforeAll(async () => {
  server = await startTestServer();
  await addUser(server, { username: 'alice', password: PASSWORD, email: 'alice@example.com' });
  await addUser(server, { realm: 'employees', username: 'erin', password: PASSWORD });
});
afterAll(() => server.stop());

async function discover(algorithm: 'oidc' | 'oauth2') {
  const issuer = new URL(server.issuer);
  const response = await oauth.discoveryRequest(issuer, { algorithm, ...insecure });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** The mobile app's password grant through the library, as it would send it. */
async function mobilePasswordGrant(as: oauth.AuthorizationServer, params: Record<string, string>) {
  const client: oauth.Client = { client_id: 'mobile-app' };
  const response = await oauth.genericTokenEndpointRequest(
    as,
    client,
    oauth.None(),
    'password',
    new URLSearchParams(params),
    insecure,
  );
  return oauth.processGenericTokenEndpointResponse(as, client, response);
}

describe('a real OAuth client library', () => {
  it('discovers the server (OIDC and RFC 8414) and gets tokens with the password grant', async () => {
    const as = await discover('oidc');
    expect(await discover('oauth2')).toEqual(as);
    expect(as.token_endpoint).toBe(`${server.issuer}oauth/token`);

    const result = await mobilePasswordGrant(as, {
      username: 'alice',
      password: PASSWORD,
      scope: 'openid email read:orders',
    });
    expect(result.token_type).toBe('bearer');
    expect(result.scope).toBe('openid email read:orders');
    const claims = oauth.getValidatedIdTokenClaims(result);
    expect(claims).toMatchObject({ iss: server.issuer, aud: 'mobile-app', email: 'alice@example.com' });

    // What a resource server does (docs/deploying.md, "Protecting your API"): verify against the JWKS, issuer, audience and typ.
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri as string));
    const { payload, protectedHeader } = await jwtVerify(result.access_token, jwks, {
      issuer: server.issuer,
      audience: API,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      scope: 'openid email read:orders',
      client_id: 'mobile-app',
      gty: 'password',
    });
    await expect(
      jwtVerify(result.access_token, jwks, { issuer: server.issuer, audience: 'https://other/' }),
    ).rejects.toThrow();
  });

  it('uses the password-realm grant as a confidential client with client_secret_basic', async () => {
    const as = await discover('oidc');
    const client: oauth.Client = { client_id: 'backoffice' };
    const response = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.ClientSecretBasic(BACKOFFICE_SECRET),
      GRANT_PASSWORD_REALM,
      new URLSearchParams({ username: 'erin', password: PASSWORD, realm: 'employees' }),
      insecure,
    );
    const result = await oauth.processGenericTokenEndpointResponse(as, client, response);
    const { payload } = await jwtVerify(
      result.access_token,
      createRemoteJWKSet(new URL(as.jwks_uri as string)),
      {
        issuer: server.issuer,
        audience: API,
      },
    );
    expect(payload.sub).toMatch(/^employees\|/);
  });

  it('surfaces the OAuth error of a wrong password to the client library', async () => {
    const as = await discover('oidc');
    await expect(
      mobilePasswordGrant(as, { username: 'alice', password: 'wrong password' }),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
      error_description: 'Wrong email or password.',
    });
  });
});
