import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { API } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

/**
 * The requests the Auth0 mobile SDKs send for a password-realm login and a refresh, as their
 * sources build them (Auth0.swift `Auth0Authentication.login(usernameOrEmail:password:
 * realmOrConnection:audience:scope:)` and `renew(withRefreshToken:)`, Auth0.Android
 * `AuthenticationAPIClient.login(usernameOrEmail, password, realmOrConnection)` and `renewAuth`,
 * react-native-auth0 `auth.passwordRealm` and `auth.refreshToken`), replayed against the local
 * server, and the answers read the way each SDK reads them.
 */

/** The `Auth0-Client` telemetry header: base64url of a small JSON document naming the SDK. */
const telemetry = (name: string, version: string, env: Record<string, string>) =>
  Buffer.from(JSON.stringify({ name, version, env })).toString('base64url');

interface Sdk {
  readonly name: string;
  /** How the SDK turns the configured domain into the token endpoint's URL. */
  tokenUrl(domain: string): string;
  /** The issuer the SDK expects in an ID token, from the same domain. */
  expectedIssuer(domain: string): string;
  readonly headers: Record<string, string>;
}

/** `https://` added when the domain has no scheme, as all three SDKs do. */
const withScheme = (domain: string) => (/^https:\/\//i.test(domain) ? domain : `https://${domain}`);

const sdks: Sdk[] = [
  {
    name: 'Auth0.swift',
    // The domain URL gets a trailing slash; "oauth/token" is then resolved relative to it (RFC 3986 §5.2).
    tokenUrl: (domain) => new URL('oauth/token', `${withScheme(domain).replace(/\/?$/, '/')}`).href,
    expectedIssuer: (domain) => `${withScheme(domain).replace(/\/?$/, '/')}`,
    headers: {
      'Content-Type': 'application/json',
      'Auth0-Client': telemetry('Auth0.swift', '2.10.0', { iOS: '17.5', swift: '5.x' }),
    },
  },
  {
    name: 'Auth0.Android',
    // OkHttp's HttpUrl: the domain lowercased, then path segments added after the domain's own
    // (an empty last segment, from a trailing slash, is replaced).
    tokenUrl: (domain) => {
      const base = new URL(withScheme(domain.toLowerCase()));
      const path = base.pathname.replace(/\/$/, '');
      return `${base.origin}${path}/oauth/token`;
    },
    // The domain URL as written, which has no trailing slash when it has a path.
    expectedIssuer: (domain) => new URL(withScheme(domain.toLowerCase())).href,
    headers: {
      'Content-Type': 'application/json',
      'Auth0-Client': telemetry('Auth0.Android', '3.2.0', { android: '34' }),
    },
  },
  {
    name: 'react-native-auth0',
    // A template string: `https://${domain}` + "/oauth/token".
    tokenUrl: (domain) => `${withScheme(domain)}/oauth/token`,
    expectedIssuer: (domain) => `${withScheme(domain)}/`,
    headers: {
      'Content-Type': 'application/json',
      'Auth0-Client': telemetry('react-native-auth0', '4.0.0', { reactNative: '0.74' }),
    },
  },
];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await addUser(server, { username: 'sdk@example.com', password: 'sdk user password' });
});
afterAll(() => server.stop());

describe('what the SDKs build from a deployed stack’s domain', () => {
  const stage = 'abc123.execute-api.eu-west-1.amazonaws.com/prod';
  const issuer = `https://${stage}/`;

  it('every SDK reaches <issuer>oauth/token from the domain with the stage path', () => {
    for (const sdk of sdks) {
      expect(sdk.tokenUrl(stage), sdk.name).toBe(`${issuer}oauth/token`);
    }
  });

  it('Auth0.Android expects the issuer without its trailing slash unless the domain is written with one', () => {
    const android = sdks[1] as Sdk;
    expect(android.expectedIssuer(stage)).toBe(`https://${stage}`); // would refuse passgate's ID tokens
    expect(android.expectedIssuer(`${stage}/`)).toBe(issuer);
    expect(android.tokenUrl(`${stage}/`)).toBe(`${issuer}oauth/token`);
  });

  it('react-native-auth0 needs the domain without a trailing slash', () => {
    const reactNative = sdks[2] as Sdk;
    expect(reactNative.tokenUrl(`${stage}/`)).toBe(`https://${stage}//oauth/token`); // not a passgate route
    expect(reactNative.tokenUrl(stage)).toBe(`${issuer}oauth/token`);
  });
});

describe('the SDKs’ requests replayed against the local server', () => {
  for (const sdk of sdks) {
    it(`${sdk.name}: password-realm login, then a refresh, answered as the SDK parses them`, async () => {
      // Locally the domain is host:port, with nothing after it; the replay then goes over plain
      // http (the SDKs' own https is what `npm start -- --https` serves).
      const domain = new URL(server.issuer).host;
      const url = sdk.tokenUrl(domain).replace(/^https:/, 'http:');
      expect(url).toBe(`${server.issuer}oauth/token`);
      const login = await fetch(url, {
        method: 'POST',
        headers: sdk.headers,
        body: JSON.stringify({
          username: 'sdk@example.com',
          password: 'sdk user password',
          grant_type: GRANT_PASSWORD_REALM,
          client_id: 'mobile-app',
          realm: 'customers',
          audience: API,
          scope: 'openid profile email offline_access',
        }),
      });
      expect(login.status).toBe(200);
      expect(login.headers.get('content-type')).toMatch(/^application\/json/);
      const credentials = (await login.json()) as Record<string, unknown>;
      // The fields the SDKs' Credentials decoders read, with their types.
      expect(credentials).toMatchObject({
        token_type: 'Bearer',
        scope: 'openid profile email offline_access',
      });
      expect(typeof credentials.access_token).toBe('string');
      expect(typeof credentials.refresh_token).toBe('string');
      expect(typeof credentials.id_token).toBe('string');
      expect(Number.isInteger(credentials.expires_in)).toBe(true);
      // The ID token checks the SDKs make: issuer from the domain, audience = client id.
      const idToken = decodeJwt(credentials.id_token as string);
      expect(idToken.iss).toBe(sdk.expectedIssuer(domain).replace(/^https:/, 'http:'));
      expect(idToken.aud).toBe('mobile-app');
      expect(idToken.sub).toMatch(/^customers\|/);

      const renewed = await fetch(url, {
        method: 'POST',
        headers: sdk.headers,
        body: JSON.stringify({
          refresh_token: credentials.refresh_token,
          grant_type: 'refresh_token',
          client_id: 'mobile-app',
        }),
      });
      expect(renewed.status).toBe(200);
      const next = (await renewed.json()) as Record<string, unknown>;
      expect(typeof next.access_token).toBe('string');
      expect(next.refresh_token).not.toBe(credentials.refresh_token); // rotated: the SDK stores the new one
    });
  }
});
