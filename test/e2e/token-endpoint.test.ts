import { connect } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBlocked } from '../../functions/admin/user-admin.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { API, BACKOFFICE_SECRET, STRICT_API } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser, adminServices } from '../helpers/users.ts';

let server: TestServer;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  server = await startTestServer();
  await addUser(server, { username: 'alice', password: PASSWORD, email: 'alice@example.com', name: 'Alice' });
  await addUser(server, { username: 'Ｂｅｎ', password: 'Ｌａｎｔｅｒｎ４７１９' });
  await addUser(server, { realm: 'employees', username: 'erin', password: PASSWORD });
});
afterAll(() => server.stop());

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
  const body = await json(response);
  expect(body.error).toBe(error);
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  return body as { error: string; error_description: string };
}

describe('password grant', () => {
  it('gives a mobile app an RS256 at+jwt access token for the default realm and audience', async () => {
    const response = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
      scope: 'read:orders',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const body = await json(response);
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read:orders' });
    const header = decodeProtectedHeader(body.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const jwks = await json(await fetch(`${server.issuer}.well-known/jwks.json`));
    expect(header.kid).toBe(jwks.keys[0].kid);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({
      iss: server.issuer,
      aud: API,
      client_id: 'mobile-app',
      azp: 'mobile-app',
      scope: 'read:orders',
      gty: 'password',
    });
    expect(claims.sub).toMatch(/^customers\|[0-9a-f]{24}$/);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims.permissions).toBeUndefined();
  });

  it('matches usernames case-insensitively after NFKC and normalises passwords with NFKC', async () => {
    const response = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'BEN',
      password: 'Lantern4719',
    });
    expect(response.status).toBe(200);
    const upper = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'ALICE',
      password: PASSWORD,
    });
    expect(upper.status).toBe(200);
  });

  it('issues an id_token for openid with profile and email claims, audience = client_id', async () => {
    const response = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
      scope: 'openid profile email read:orders unknown:scope',
    });
    const body = await json(response);
    expect(body.scope).toBe('openid profile email read:orders');
    const idToken = decodeJwt(body.id_token);
    expect(idToken).toMatchObject({
      iss: server.issuer,
      aud: 'mobile-app',
      name: 'Alice',
      email: 'alice@example.com',
      email_verified: false,
      preferred_username: 'alice',
    });
    expect(decodeProtectedHeader(body.id_token).typ).toBe('JWT');
  });

  it('always answers with scope, empty when nothing was granted', async () => {
    const body = await json(
      await server.token({
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'alice',
        password: PASSWORD,
      }),
    );
    expect(body.scope).toBe('');
  });

  it('lists offline_access in scope, response and token alike, exactly when a refresh token is issued', async () => {
    const ask = (clientId: string, audience: string) =>
      server.token({
        grant_type: GRANT_PASSWORD_REALM,
        realm: 'customers',
        client_id: clientId,
        username: 'alice',
        password: PASSWORD,
        audience,
        scope: 'openid offline_access',
      });
    for (const [clientId, audience, refreshToken] of [
      ['mobile-app', API, true],
      // The client may not hold refresh tokens; the API may not allow offline access.
      ['realm-only', API, false],
      ['mobile-app', STRICT_API, false],
    ] as const) {
      const body = await json(await ask(clientId, audience));
      const scope = refreshToken ? 'openid offline_access' : 'openid';
      expect([body.scope, decodeJwt(body.access_token).scope, 'refresh_token' in body]).toEqual([
        scope,
        scope,
        refreshToken,
      ]);
    }
  });

  it('accepts JSON bodies as Auth0 SDKs send them', async () => {
    const response = await fetch(`${server.issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'alice',
        password: PASSWORD,
      }),
    });
    expect(response.status).toBe(200);
  });

  it('takes the audience from RFC 8707 resource, and refuses an unknown audience', async () => {
    const ok = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
      resource: STRICT_API,
    });
    expect(decodeJwt((await json(ok)).access_token).aud).toBe(STRICT_API);
    await expectError(
      await server.token({
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'alice',
        password: PASSWORD,
        audience: 'https://nope.example.com/',
      }),
      400,
      'invalid_request',
    );
  });

  it('grants scopes of an API that enforces permissions only where the user holds them', async () => {
    const response = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
      audience: STRICT_API,
      scope: 'read:reports admin:reports',
    });
    const body = await json(response);
    expect(body.scope).toBe('');
    expect(decodeJwt(body.access_token).permissions).toEqual([]);
  });
});

describe('password-realm grant', () => {
  it('logs a confidential client in against the realm it names, with client_secret_basic', async () => {
    const response = await server.token(
      { grant_type: GRANT_PASSWORD_REALM, realm: 'employees', username: 'erin', password: PASSWORD },
      { authorization: basic('backoffice', BACKOFFICE_SECRET) },
    );
    expect(response.status).toBe(200);
    const claims = decodeJwt((await json(response)).access_token);
    expect(claims).toMatchObject({ gty: 'password-realm', client_id: 'backoffice' });
    expect(claims.sub).toMatch(/^employees\|/);
  });

  it('accepts client_secret_post', async () => {
    const response = await server.token({
      grant_type: GRANT_PASSWORD_REALM,
      client_id: 'backoffice',
      client_secret: BACKOFFICE_SECRET,
      realm: 'employees',
      username: 'erin',
      password: PASSWORD,
    });
    expect(response.status).toBe(200);
  });

  it('does not find a user of one realm in another', async () => {
    const body = await expectError(
      await server.token({
        grant_type: GRANT_PASSWORD_REALM,
        client_id: 'realm-only',
        realm: 'employees',
        username: 'alice',
        password: PASSWORD,
      }),
      400,
      'invalid_grant',
    );
    expect(body.error_description).toBe('Wrong email or password.');
  });

  it('refuses a realm that is not enabled for the client', async () => {
    await expectError(
      await server.token({
        grant_type: GRANT_PASSWORD_REALM,
        client_id: 'mobile-app',
        realm: 'employees',
        username: 'erin',
        password: PASSWORD,
      }),
      400,
      'unauthorized_client',
    );
  });
});

describe('token endpoint errors', () => {
  const good = { grant_type: 'password', client_id: 'mobile-app', username: 'alice', password: PASSWORD };

  it('answers unknown user and wrong password identically', async () => {
    const unknown = await server.token({ ...good, username: 'nobody' });
    const wrong = await server.token({ ...good, password: 'wrong password' });
    const a = await expectError(unknown, 400, 'invalid_grant');
    const b = await expectError(wrong, 400, 'invalid_grant');
    expect(a).toEqual(b);
    expect(a.error_description).toBe('Wrong email or password.');
    expect([...unknown.headers.keys()].filter((h) => h !== 'date').sort()).toEqual(
      [...wrong.headers.keys()].filter((h) => h !== 'date').sort(),
    );
  });

  it.each([
    ['missing grant_type', { client_id: 'mobile-app' }, 400, 'invalid_request'],
    [
      'missing username',
      { grant_type: 'password', client_id: 'mobile-app', password: 'x' },
      400,
      'invalid_request',
    ],
    [
      'missing password',
      { grant_type: 'password', client_id: 'mobile-app', username: 'alice' },
      400,
      'invalid_request',
    ],
    [
      'missing realm',
      { grant_type: GRANT_PASSWORD_REALM, client_id: 'mobile-app', username: 'a', password: 'b' },
      400,
      'invalid_request',
    ],
    [
      'missing client_id',
      { grant_type: 'password', username: 'alice', password: 'x' },
      400,
      'invalid_request',
    ],
    [
      'unknown grant_type',
      { grant_type: 'client_credentials', client_id: 'mobile-app' },
      400,
      'unsupported_grant_type',
    ],
    ['unknown client', { ...good, client_id: 'nope' }, 401, 'invalid_client'],
    ['public client with a secret', { ...good, client_secret: 'guess' }, 401, 'invalid_client'],
    [
      'confidential client without secret',
      { ...good, grant_type: GRANT_PASSWORD_REALM, realm: 'employees', client_id: 'backoffice' },
      401,
      'invalid_client',
    ],
    [
      'confidential client with a wrong secret',
      {
        ...good,
        grant_type: GRANT_PASSWORD_REALM,
        realm: 'employees',
        client_id: 'backoffice',
        client_secret: 'wrong',
      },
      401,
      'invalid_client',
    ],
    ['grant not allowed for the client', { ...good, client_id: 'realm-only' }, 400, 'unauthorized_client'],
    ['malformed scope', { ...good, scope: 'read:orders "quoted"' }, 400, 'invalid_request'],
    ['password over 1 KiB', { ...good, password: 'x'.repeat(1025) }, 400, 'invalid_request'],
    [
      'audience and resource disagree',
      { ...good, audience: API, resource: STRICT_API },
      400,
      'invalid_request',
    ],
  ] as const)('%s', async (_name, params, status, error) => {
    await expectError(await server.token(params as Record<string, string>), status, error);
  });

  it('answers 401 with WWW-Authenticate when Basic credentials are wrong (RFC 6749 §5.2)', async () => {
    const response = await server.token(
      { grant_type: GRANT_PASSWORD_REALM, realm: 'employees', username: 'erin', password: PASSWORD },
      { authorization: basic('backoffice', 'wrong') },
    );
    await expectError(response, 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('refuses two client authentication methods at once', async () => {
    await expectError(
      await server.token(
        {
          grant_type: GRANT_PASSWORD_REALM,
          realm: 'employees',
          username: 'erin',
          password: PASSWORD,
          client_secret: BACKOFFICE_SECRET,
        },
        { authorization: basic('backoffice', BACKOFFICE_SECRET) },
      ),
      400,
      'invalid_request',
    );
  });

  it('refuses a parameter given twice', async () => {
    const response = await fetch(`${server.issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&client_id=mobile-app&username=alice&username=bob&password=${encodeURIComponent(PASSWORD)}`,
    });
    await expectError(response, 400, 'invalid_request');
  });

  it.each([
    ['text/plain', 'grant_type=password'],
    ['application/json', '{"grant_type":'],
    ['application/json', '["password"]'],
    ['application/json', '{"grant_type":"password","client_id":["mobile-app"]}'],
    ['application/x-www-form-urlencoded', 'grant_type=%E0%A4%A'],
  ])('refuses a malformed %s body', async (contentType, body) => {
    const response = await fetch(`${server.issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    await expectError(response, 400, 'invalid_request');
  });

  it('refuses a body over 16 KiB with 413', async () => {
    const response = await server.token({ ...good, padding: 'x'.repeat(17 * 1024) });
    await expectError(response, 413, 'invalid_request');
  });

  it('is 403 access_denied for a blocked user with the right password, invalid_grant with a wrong one', async () => {
    await addUser(server, { username: 'mallory', password: PASSWORD });
    await setBlocked(adminServices(server), 'customers', 'mallory', true);
    await expectError(await server.token({ ...good, username: 'mallory' }), 403, 'access_denied');
    const wrong = await expectError(
      await server.token({ ...good, username: 'mallory', password: 'wrong password' }),
      400,
      'invalid_grant',
    );
    expect(wrong.error_description).toBe('Wrong email or password.');
  });

  it('answers unknown paths and methods with JSON, not a stack trace', async () => {
    expect((await fetch(`${server.issuer}nope`)).status).toBe(404);
    const wrongMethod = await fetch(`${server.issuer}oauth/token`);
    expect(wrongMethod.status).toBe(405);
    expect((await json(wrongMethod)).error).toBe('invalid_request');
  });

  it('answers a request target it cannot parse with 400 JSON, and keeps serving', async () => {
    const { port } = new URL(server.issuer);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.end('GET http://[::1/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      );
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('"error":"invalid_request"');
    expect((await fetch(`${server.issuer}.well-known/jwks.json`)).status).toBe(200);
  });
});
