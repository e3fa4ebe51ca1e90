import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN } from '../../functions/config/grant-types.ts';
import { testConfig } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

const APP = 'http://localhost:5173';
const FOREIGN = 'https://evil.example.net';
const PASSWORD = 'correct horse battery staple';
const REALM_GRANT = {
  grant_type: GRANT_PASSWORD_REALM,
  client_id: 'web-app',
  realm: 'customers',
  username: 'carol',
};

let server: TestServer;

beforeAll(async () => {
  const config = testConfig();
  config.clients = [
    ...(config.clients ?? []),
    {
      clientId: 'web-app',
      name: 'Web app',
      grantTypes: [GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN],
      realms: ['customers'],
      allowedOrigins: [APP],
    },
  ];
  server = await startTestServer({ config });
  await addUser(server, { username: 'carol', password: PASSWORD });
});
afterAll(() => server.stop());

const preflight = (path: string, origin: string) =>
  fetch(`${server.issuer}${path}`, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'dpop',
    },
  });

describe('CORS on the local server', () => {
  it('answers a preflight from an allowed origin with 204 and the CORS headers', async () => {
    const response = await preflight('oauth/token', APP);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'Authorization, Content-Type, DPoP, Auth0-Client',
    );
    expect(response.headers.get('access-control-max-age')).toBe('7200');
    expect(response.headers.get('vary')).toBe('Origin');
  });

  it('answers a preflight from an unknown origin without CORS headers', async () => {
    const response = await preflight('oauth/revoke', FOREIGN);
    expect(response.status).toBe(204);
    expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('has no preflight on introspection, which is for back ends', async () => {
    const response = await preflight('oauth/introspect', APP);
    expect(response.status).toBe(405);
  });

  it('charges nothing for a foreign origin: twenty wrong passwords from it leave the user unblocked', async () => {
    for (let i = 0; i < 20; i++) {
      const refused = await server.token({ ...REALM_GRANT, password: 'wrong password' }, { Origin: FOREIGN });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Origin not allowed for this client.',
      });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
    const ok = await server.token({ ...REALM_GRANT, password: PASSWORD }, { Origin: APP });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    expect(ok.headers.get('vary')).toBe('Origin');
  });

  it('lets a page read an unknown path or method, as API Gateway does', async () => {
    const response = await fetch(`${server.issuer}nowhere`, { headers: { Origin: APP } });
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Unknown endpoint.',
    });
  });

  it('serves discovery and the JWKS with *, and nothing else', async () => {
    for (const path of ['.well-known/openid-configuration', '.well-known/jwks.json']) {
      const response = await fetch(`${server.issuer}${path}`, { headers: { Origin: FOREIGN } });
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    }
    const token = await server.token({ ...REALM_GRANT, password: 'wrong password' }, { Origin: APP });
    expect(token.headers.get('access-control-allow-origin')).toBe(APP);
  });
});
