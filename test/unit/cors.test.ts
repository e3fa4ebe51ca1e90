import { describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN } from '../../functions/config/grant-types.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { introspectEndpoint } from '../../functions/endpoints/introspect.ts';
import { metadataEndpoint } from '../../functions/endpoints/metadata.ts';
import { revokeEndpoint } from '../../functions/endpoints/revoke.ts';
import { tokenEndpoint } from '../../functions/endpoints/token.ts';
import { userinfoEndpoint } from '../../functions/endpoints/userinfo.ts';
import { type Endpoint, proxyHandler } from '../../functions/http/handler.ts';
import type { Logger } from '../../functions/logging.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { routes } from '../../functions/routes.ts';
import { testConfig } from '../helpers/config.ts';
import { proxyEvent } from '../helpers/events.ts';
import { memoryServices } from '../helpers/memory-ports.ts';

const WEB_ORIGIN = 'https://app.example.com';
const OTHER_CLIENTS_ORIGIN = 'https://partner.example.com';
const FOREIGN_ORIGIN = 'https://evil.example.net';

/** The test tenant plus a web app on WEB_ORIGIN and a second one on OTHER_CLIENTS_ORIGIN. */
const corsConfig = () => {
  const base = testConfig();
  return parseConfig({
    ...base,
    clients: [
      ...(base.clients ?? []),
      {
        clientId: 'web-app',
        name: 'Web app',
        grantTypes: [GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN],
        realms: ['customers'],
        allowedOrigins: [WEB_ORIGIN],
      },
      {
        clientId: 'partner-app',
        name: 'Partner app',
        grantTypes: [GRANT_PASSWORD_REALM],
        realms: ['customers'],
        allowedOrigins: [OTHER_CLIENTS_ORIGIN],
      },
    ],
  });
};

async function setUp(endpoint: Endpoint, overrides: { logger?: Logger } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger: Logger = overrides.logger ?? {
    log: (level, message, fields) => lines.push({ level, message, ...fields }),
  };
  const built = await memoryServices({ config: corsConfig(), logger });
  return { ...built, lines, handler: proxyHandler(endpoint, async () => built.services) };
}

const tokenRequest = (origin: string | undefined, body: string) =>
  proxyEvent({
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(origin === undefined ? {} : { Origin: origin }),
    },
    body,
  });

const WRONG_PASSWORD =
  'grant_type=http%3A%2F%2Fauth0.com%2Foauth%2Fgrant-type%2Fpassword-realm&client_id=web-app&realm=customers&username=ann&password=not-her-password';

const ECHOED = (origin: string) => ({
  'Access-Control-Allow-Origin': origin,
  'Access-Control-Expose-Headers': 'Retry-After, WWW-Authenticate, DPoP-Nonce',
  Vary: 'Origin',
});

describe('CORS preflight', () => {
  const preflight = (origin: string | undefined, path = '/oauth/token') =>
    proxyEvent({
      method: 'OPTIONS',
      path,
      headers: {
        ...(origin === undefined ? {} : { Origin: origin }),
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });

  it('answers 204 with the CORS headers to an origin that a client allows', async () => {
    const { handler } = await setUp(tokenEndpoint);
    expect(await handler(preflight(WEB_ORIGIN))).toEqual({
      statusCode: 204,
      headers: {
        Allow: 'GET, POST, OPTIONS',
        Vary: 'Origin',
        'Access-Control-Allow-Origin': WEB_ORIGIN,
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, DPoP, Auth0-Client',
        'Access-Control-Max-Age': '7200',
      },
      body: '',
    });
  });

  it('answers an unknown origin without any CORS header, so the browser stops there', async () => {
    const { handler } = await setUp(tokenEndpoint);
    const response = await handler(preflight(FOREIGN_ORIGIN));
    expect(response).toEqual({
      statusCode: 204,
      headers: { Allow: 'GET, POST, OPTIONS', Vary: 'Origin' },
      body: '',
    });
  });

  it('runs no endpoint code: a preflight is answered even while the store is down', async () => {
    const { handler, services } = await setUp(revokeEndpoint);
    services.refreshTokens.findToken = async () => {
      throw new DependencyUnavailableError('dynamodb', 'GetItem', new Error('down'));
    };
    expect((await handler(preflight(WEB_ORIGIN, '/oauth/revoke'))).statusCode).toBe(204);
  });

  it('allows any origin on discovery and the JWKS, with *', async () => {
    const { handler } = await setUp(metadataEndpoint);
    const response = await handler(preflight(FOREIGN_ORIGIN, '/.well-known/jwks.json'));
    expect(response.headers?.['Access-Control-Allow-Origin']).toBe('*');
  });

  it('is routed on the token, revoke, userinfo, MFA API, accounts and .well-known paths, and not on introspection', () => {
    expect(
      routes
        .filter((route) => route.method === 'OPTIONS')
        .map((route) => route.path)
        .sort(),
    ).toEqual([
      '.well-known/jwks.json',
      '.well-known/oauth-authorization-server',
      '.well-known/openid-configuration',
      'account/delete',
      'dbconnections/change_password',
      'dbconnections/signup',
      'mfa/associate',
      'mfa/authenticators',
      'mfa/challenge',
      'oauth/revoke',
      'oauth/token',
      'userinfo',
    ]);
  });
});

describe('CORS on actual requests', () => {
  it('refuses an origin the client does not allow before any password is checked or attempt counted', async () => {
    const { handler, hasher, attempts, lines } = await setUp(tokenEndpoint);
    // Allowed for another client: the preflight would pass, the request must not.
    for (const origin of [FOREIGN_ORIGIN, OTHER_CLIENTS_ORIGIN]) {
      const response = await handler(tokenRequest(origin, WRONG_PASSWORD));
      expect(response).toEqual({
        statusCode: 400,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' },
        body: '{"error":"invalid_request","error_description":"Origin not allowed for this client."}',
      });
    }
    expect(hasher.calls).toEqual([]);
    expect(attempts.counters.size).toBe(0);
    expect(lines.filter((line) => line.audit)).toEqual([
      expect.objectContaining({ type: 'fco', client_id: 'web-app', ip: '198.51.100.7', level: 'info' }),
      expect.objectContaining({ type: 'fco', client_id: 'web-app', ip: '198.51.100.7', level: 'info' }),
    ]);
  });

  it('holds a mobile client without allowed origins to none', async () => {
    const { handler, hasher } = await setUp(tokenEndpoint);
    const response = await handler(
      tokenRequest(WEB_ORIGIN, 'grant_type=password&client_id=mobile-app&username=ann&password=x-x-x-x-x'),
    );
    expect(JSON.parse(response.body).error_description).toBe('Origin not allowed for this client.');
    expect(hasher.calls).toEqual([]);
  });

  it('lets the page read a 400 invalid_grant, with the origin echoed and never *', async () => {
    const { handler } = await setUp(tokenEndpoint);
    const response = await handler(tokenRequest(WEB_ORIGIN, WRONG_PASSWORD));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toBe('invalid_grant');
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      ...ECHOED(WEB_ORIGIN),
    });
    expect(response.headers).not.toHaveProperty('Access-Control-Allow-Credentials');
  });

  it('lets the page read a 401 invalid_client for a client it mistyped', async () => {
    const { handler } = await setUp(tokenEndpoint);
    const response = await handler(tokenRequest(WEB_ORIGIN, 'grant_type=password&client_id=web-ap'));
    expect(response.statusCode).toBe(401);
    expect(response.headers).toMatchObject(ECHOED(WEB_ORIGIN));
  });

  it('lets the page read a 429 too_many_attempts with its Retry-After', async () => {
    const { handler } = await setUp(tokenEndpoint);
    let response = await handler(tokenRequest(WEB_ORIGIN, WRONG_PASSWORD));
    for (let i = 0; i < 10; i++) response = await handler(tokenRequest(WEB_ORIGIN, WRONG_PASSWORD));
    expect(response.statusCode).toBe(429);
    expect(response.headers).toMatchObject({ ...ECHOED(WEB_ORIGIN), 'Retry-After': expect.any(String) });
  });

  it('lets the page read a 503 temporarily_unavailable', async () => {
    const { handler, services } = await setUp(tokenEndpoint);
    services.users.findForLogin = async () => {
      throw new DependencyUnavailableError('dynamodb', 'BatchGetItem', new Error('down'));
    };
    const response = await handler(tokenRequest(WEB_ORIGIN, WRONG_PASSWORD));
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ ...ECHOED(WEB_ORIGIN), 'Retry-After': '1' });
  });

  it('lets the page read the 503 of a cold start that failed, before any config was read', async () => {
    const handler = proxyHandler(tokenEndpoint, async () => {
      throw new DependencyUnavailableError('secrets-manager', 'GetSecretValue', new Error('down'));
    });
    const response = await handler(tokenRequest(WEB_ORIGIN, WRONG_PASSWORD));
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject(ECHOED(WEB_ORIGIN));
  });

  it('checks userinfo against the client the access token was issued to', async () => {
    const { handler } = await setUp(userinfoEndpoint);
    // Shaped like an access token but signed by no one: the origin is checked before verification.
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = (clientId: string) =>
      `${part({ alg: 'RS256', typ: 'at+jwt' })}.${part({ client_id: clientId, scope: 'openid' })}.c2ln`;
    const call = (clientId: string) =>
      handler(
        proxyEvent({
          method: 'GET',
          path: '/userinfo',
          headers: { Origin: WEB_ORIGIN, Authorization: `Bearer ${token(clientId)}` },
        }),
      );
    const foreign = await call('mobile-app');
    expect(JSON.parse(foreign.body).error_description).toBe('Origin not allowed for this client.');
    expect(foreign.headers).not.toHaveProperty('Access-Control-Allow-Origin');
    // The web app's token, which fails verification, gets its 401, readable by the page.
    const own = await call('web-app');
    expect(own.statusCode).toBe(401);
    expect(own.headers).toMatchObject({ ...ECHOED(WEB_ORIGIN), 'WWW-Authenticate': expect.any(String) });
  });

  it('leaves requests without Origin (apps, servers) exactly as they were', async () => {
    const { handler } = await setUp(tokenEndpoint);
    const response = await handler(tokenRequest(undefined, WRONG_PASSWORD));
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
    });
  });

  it('answers introspection, for back ends, with no CORS header at all', async () => {
    const { handler } = await setUp(introspectEndpoint);
    const response = await handler(
      proxyEvent({ path: '/oauth/introspect', headers: { Origin: WEB_ORIGIN }, body: '' }),
    );
    expect(Object.keys(response.headers ?? {}).filter((name) => name.startsWith('Access-Control'))).toEqual(
      [],
    );
  });

  it('serves discovery and the JWKS to any origin with *', async () => {
    const { handler } = await setUp(metadataEndpoint);
    const response = await handler(
      proxyEvent({
        method: 'GET',
        path: '/.well-known/openid-configuration',
        headers: { Origin: FOREIGN_ORIGIN },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Access-Control-Allow-Origin']).toBe('*');
  });
});
