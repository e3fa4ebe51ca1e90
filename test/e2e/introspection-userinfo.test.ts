import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteUser, setBlocked } from '../../functions/admin/user-admin.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { hashClientSecret } from '../../functions/oauth/client-auth.ts';
import { DPOP_ALGORITHMS } from '../../functions/oauth/dpop/algorithms.ts';
import type { UserRecord } from '../../functions/oauth/ports.ts';
import { API, BACKOFFICE_SECRET, testConfig } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { FixedClock } from '../helpers/memory-ports.ts';
import { type App, backoffice, mobileApp, type OAuthClient, oauthClient } from '../helpers/oauth-client.ts';
import { addUser, adminServices } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';

let server: TestServer;
let app: OAuthClient;
let alice: UserRecord;
let erin: UserRecord;
/** Starts at the real time (oauth4webapi checks ID tokens against it); moved only to expire tokens. */
const clock = new FixedClock(Date.now());

/** A resource server's client: confidential, introspection left at its default (`own`). */
const ORDERS_SECRET = 'orders-service-secret-0123456789abcdefghijklmnop';
const ordersService: App = {
  client: { client_id: 'orders-service' },
  auth: oauth.ClientSecretBasic(ORDERS_SECRET),
};
const config = testConfig();
config.clients = [
  // The back office stands for a gateway that introspects every client's access tokens.
  ...config.clients.map((client) =>
    client.clientId === 'backoffice' ? { ...client, introspection: 'all' as const } : client,
  ),
  {
    clientId: 'orders-service',
    name: 'Orders service',
    clientSecretHash: hashClientSecret(ORDERS_SECRET),
    grantTypes: [GRANT_PASSWORD_REALM],
    realms: ['employees'],
  },
];

beforeAll(async () => {
  server = await startTestServer({ clock, config });
  app = await oauthClient(server);
  alice = await addUser(server, {
    username: 'alice',
    password: PASSWORD,
    email: 'alice@example.com',
    name: 'Alice Liddell',
  });
  erin = await addUser(server, { realm: 'employees', username: 'erin', password: PASSWORD });
});
afterAll(() => server.stop());

const aliceLogin = (scope: string) => app.login(mobileApp, { username: 'alice', password: PASSWORD, scope });
const erinLogin = () =>
  app.login(
    backoffice,
    { realm: 'employees', username: 'erin', password: PASSWORD, scope: 'offline_access read:orders' },
    GRANT_PASSWORD_REALM,
  );

describe('introspection (RFC 7662)', () => {
  it("describes a confidential client's own refresh token from the store", async () => {
    const tokens = await erinLogin();
    const result = await app.introspect(backoffice, tokens.refresh_token as string);
    expect(result).toEqual({
      active: true,
      token_type: 'refresh_token',
      scope: 'offline_access read:orders',
      client_id: 'backoffice',
      username: 'erin',
      sub: `employees|${erin.user_id}`,
      aud: API,
      iss: server.issuer,
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(Number(result.exp) - Number(result.iat)).toBe(1_296_000); // the idle lifetime
  });

  it('reports a rotated-out refresh token inactive without treating the look as reuse', async () => {
    const tokens = await erinLogin();
    const rotated = await app.refresh(backoffice, tokens.refresh_token as string);
    expect(await app.introspect(backoffice, tokens.refresh_token as string)).toEqual({ active: false });
    expect(await app.introspect(backoffice, rotated.refresh_token as string)).toMatchObject({ active: true });
    expect((await app.refresh(backoffice, rotated.refresh_token as string)).refresh_token).toBeDefined();
  });

  it('reports revoked refresh tokens and those of blocked users inactive', async () => {
    const tokens = await erinLogin();
    await app.revoke(backoffice, tokens.refresh_token as string);
    expect(await app.introspect(backoffice, tokens.refresh_token as string)).toEqual({ active: false });
    await addUser(server, { realm: 'employees', username: 'eve', password: PASSWORD });
    const eve = await app.login(
      backoffice,
      { realm: 'employees', username: 'eve', password: PASSWORD, scope: 'offline_access' },
      GRANT_PASSWORD_REALM,
    );
    expect(await app.introspect(backoffice, eve.refresh_token as string)).toMatchObject({ active: true });
    await setBlocked(adminServices(server), 'employees', 'eve', true);
    expect(await app.introspect(backoffice, eve.refresh_token as string)).toEqual({ active: false });
  });

  it("shows another client's refresh token to nobody but that client", async () => {
    const tokens = await aliceLogin('offline_access');
    expect(await app.introspect(backoffice, tokens.refresh_token as string)).toEqual({ active: false });
  });

  it('describes any valid access token of this issuer, verified by signature, issuer and expiry', async () => {
    const tokens = await aliceLogin('openid read:orders');
    const result = await app.introspect(backoffice, tokens.access_token);
    expect(result).toMatchObject({
      active: true,
      token_type: 'Bearer',
      scope: 'openid read:orders',
      client_id: 'mobile-app',
      sub: `customers|${alice.user_id}`,
      aud: API,
      iss: server.issuer,
      gty: 'password',
    });
    const [header, payload, signature] = tokens.access_token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()),
        scope: 'write:orders',
      }),
    ).toString('base64url');
    for (const inactive of [
      `${header}.${forged}.${signature}`,
      tokens.id_token as string,
      'garbage',
      'A'.repeat(43),
    ]) {
      expect(await app.introspect(backoffice, inactive)).toEqual({ active: false });
    }
  });

  it("shows a client with introspection 'own' only the access tokens issued to it", async () => {
    const tokens = await aliceLogin('openid read:orders');
    expect(await app.introspect(ordersService, tokens.access_token)).toEqual({ active: false });
    const own = await app.login(
      ordersService,
      { realm: 'employees', username: 'erin', password: PASSWORD, scope: 'read:orders' },
      GRANT_PASSWORD_REALM,
    );
    expect(await app.introspect(ordersService, own.access_token)).toMatchObject({
      active: true,
      client_id: 'orders-service',
    });
  });

  it('reports an expired access token inactive', async () => {
    const tokens = await aliceLogin('read:orders');
    clock.advance(900);
    try {
      expect(await app.introspect(backoffice, tokens.access_token)).toEqual({ active: false });
    } finally {
      clock.advance(-900);
    }
  });

  const introspect = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${server.issuer}oauth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    });

  it.each([
    ['a public client', { client_id: 'mobile-app', token: 'x' }, 401, 'invalid_client'],
    [
      'a wrong secret',
      { client_id: 'backoffice', client_secret: 'wrong', token: 'x' },
      401,
      'invalid_client',
    ],
    ['no secret', { client_id: 'backoffice', token: 'x' }, 401, 'invalid_client'],
    ['no token', { client_id: 'backoffice', client_secret: BACKOFFICE_SECRET }, 400, 'invalid_request'],
  ])('refuses %s', async (_name, params, status, error) => {
    const response = await introspect(params as Record<string, string>);
    expect(response.status).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect((await json(response)).error).toBe(error);
  });
});

describe('userinfo', () => {
  const userinfo = (headers: Record<string, string>, query = '') =>
    fetch(`${server.issuer}userinfo${query}`, { headers });

  it('returns claims by granted scope to a strict OIDC client', async () => {
    const tokens = await aliceLogin('openid profile email');
    const sub = `customers|${alice.user_id}`;
    expect(await app.userinfo(tokens.access_token, sub)).toEqual({
      sub,
      name: 'Alice Liddell',
      preferred_username: 'alice',
      updated_at: Math.floor(Date.parse(alice.updated_at) / 1000),
      email: 'alice@example.com',
      email_verified: false,
    });
    const onlyOpenid = await aliceLogin('openid');
    expect(await app.userinfo(onlyOpenid.access_token, sub)).toEqual({ sub });
  });

  it('answers POST as well (OpenID Connect Core §5.3.1), with no-store', async () => {
    const tokens = await aliceLogin('openid email');
    const response = await fetch(`${server.issuer}userinfo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await json(response)).toEqual({
      sub: `customers|${alice.user_id}`,
      email: 'alice@example.com',
      email_verified: false,
    });
  });

  it('challenges a request without a bearer token, and ignores one in the query string', async () => {
    const tokens = await aliceLogin('openid');
    for (const response of [
      await userinfo({}),
      await userinfo({}, `?access_token=${tokens.access_token}`),
      await userinfo({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }),
    ]) {
      expect(response.status).toBe(401);
      // RFC 9449 §7.2: both schemes are offered, DPoP with the algorithms its proofs may use.
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="passgate", DPoP algs="${DPOP_ALGORITHMS.join(' ')}"`,
      );
    }
  });

  it('answers 401 invalid_token for a token that is not a valid access token of this issuer', async () => {
    const tokens = await aliceLogin('openid');
    const tampered = `${tokens.access_token.slice(0, -4)}AAAA`;
    for (const token of [tampered, tokens.id_token as string, 'garbage']) {
      const response = await userinfo({ authorization: `Bearer ${token}` });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="passgate", error="invalid_token"/,
      );
      expect((await json(response)).error).toBe('invalid_token');
    }
  });

  it('answers 401 invalid_token for an expired access token', async () => {
    const tokens = await aliceLogin('openid');
    clock.advance(900);
    try {
      const response = await userinfo({ authorization: `Bearer ${tokens.access_token}` });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    } finally {
      clock.advance(-900);
    }
  });

  it('answers 403 insufficient_scope for a token without openid (RFC 6750 §3.1)', async () => {
    const tokens = await aliceLogin('read:orders');
    const response = await userinfo({ authorization: `Bearer ${tokens.access_token}` });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="passgate", error="insufficient_scope", scope="openid"',
    );
    expect((await json(response)).error).toBe('insufficient_scope');
  });

  it('answers 401 invalid_token once the user is blocked or deleted', async () => {
    const bob = await addUser(server, { username: 'bob', password: PASSWORD });
    const bobToken = async () =>
      (await app.login(mobileApp, { username: 'bob', password: PASSWORD, scope: 'openid' })).access_token;
    const beforeBlock = await bobToken();
    expect(await app.userinfo(beforeBlock, `customers|${bob.user_id}`)).toEqual({
      sub: `customers|${bob.user_id}`,
    });
    await setBlocked(adminServices(server), 'customers', 'bob', true);
    expect((await userinfo({ authorization: `Bearer ${beforeBlock}` })).status).toBe(401);
    await setBlocked(adminServices(server), 'customers', 'bob', false);
    const beforeDelete = await bobToken();
    await deleteUser(adminServices(server), 'customers', 'bob');
    const response = await userinfo({ authorization: `Bearer ${beforeDelete}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });
});
