import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRANT_PASSWORD,
  GRANT_PASSWORD_REALM,
  GRANT_REFRESH_TOKEN,
} from '../../functions/config/grant-types.ts';
import { jsonLogger } from '../../functions/logging.ts';
import type { UserRecord } from '../../functions/oauth/ports.ts';
import { testConfig } from '../helpers/config.ts';
import { dpopKey, dpopProof } from '../helpers/dpop.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser, adminServices } from '../helpers/users.ts';

const PASSWORD = 'deletion: correct horse battery staple';
const DORA = 'dora@example.com';
const MAX_FAILURES = 3;

const config = testConfig();
config.realms = [
  {
    name: 'customers',
    bruteForce: { maxConsecutiveFailures: MAX_FAILURES, blockSeconds: 900 },
    signup: { enabled: true },
  },
  { name: 'employees' },
];
config.clients = [
  ...config.clients.map((client) =>
    client.clientId === 'mobile-app' ? { ...client, allowAccountDeletion: true } : client,
  ),
  // Signs users of the same realm in, but is not trusted to delete accounts.
  {
    clientId: 'kiosk',
    name: 'Kiosk',
    grantTypes: [GRANT_PASSWORD, GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN],
    realms: ['customers'],
  },
];

const lines: string[] = [];
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ config, logger: jsonLogger((line) => lines.push(line)) });
});
afterAll(() => server.stop());

const auditEvents = () =>
  lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((event) => event.audit === true);

async function signIn(username: string, clientId = 'mobile-app', password = PASSWORD) {
  const response = await server.token({
    grant_type: 'password',
    client_id: clientId,
    username,
    password,
    scope: 'openid offline_access',
  });
  expect(response.status).toBe(200);
  return (await json(response)) as { access_token: string; refresh_token: string };
}

const passwordLogin = (username: string, password = PASSWORD) =>
  server.token({ grant_type: 'password', client_id: 'mobile-app', username, password });

const refresh = (refreshToken: string, clientId = 'mobile-app') =>
  server.token({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });

const deleteAccount = (
  authorization: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  fetch(`${server.issuer}account/delete`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === undefined ? {} : { authorization }),
      ...headers,
    },
    body: JSON.stringify(body),
  });

describe('POST account/delete', () => {
  it('deletes the account with its token and password; its refresh tokens die; the address signs up again as a new user', async () => {
    const signUp = () =>
      fetch(`${server.issuer}dbconnections/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: 'mobile-app',
          email: DORA,
          password: PASSWORD,
          connection: 'customers',
        }),
      });
    const signedUp = await signUp();
    expect(signedUp.status).toBe(200);
    const first = (await adminServices(server).users.findById(
      'customers',
      (
        await json(signedUp)
      )._id,
    )) as UserRecord;
    const tokens = await signIn(DORA);
    const other = await signIn(DORA);

    const deleted = await deleteAccount(`Bearer ${tokens.access_token}`, { password: PASSWORD });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect(deleted.headers.get('cache-control')).toBe('no-store');

    expect(await adminServices(server).users.findById('customers', first.user_id)).toBeUndefined();
    for (const refreshToken of [tokens.refresh_token, other.refresh_token]) {
      const refused = await refresh(refreshToken);
      expect(refused.status).toBe(400);
      expect((await json(refused)).error).toBe('invalid_grant');
    }
    const userinfo = await fetch(`${server.issuer}userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(userinfo.status).toBe(401);
    const oldLogin = await passwordLogin(DORA);
    expect(oldLogin.status).toBe(400);

    // The same address signs up again as someone new: another `sub`; the old sessions stay dead.
    const again = await signUp();
    expect(again.status).toBe(200);
    const secondId = (await json(again))._id;
    expect(secondId).not.toBe(first.user_id);
    const fresh = await signIn(DORA);
    expect(decodeJwt(fresh.access_token).sub).toBe(`customers|${secondId}`);
    expect(decodeJwt(fresh.access_token).sub).not.toBe(decodeJwt(tokens.access_token).sub);
    expect((await refresh(tokens.refresh_token)).status).toBe(400);
    expect((await refresh(other.refresh_token)).status).toBe(400);
    // Nor can the first user's access token, still unexpired, delete the new user.
    const stale = await deleteAccount(`Bearer ${tokens.access_token}`, { password: PASSWORD });
    expect(stale.status).toBe(401);
    expect((await json(stale)).error).toBe('invalid_token');
    expect(await adminServices(server).users.findById('customers', secondId)).toBeDefined();
  });

  it('leaves an audit event with the user id and nothing else about the person', async () => {
    const user = await addUser(server, { username: 'audra', password: PASSWORD, email: 'audra@example.com' });
    const tokens = await signIn('audra');
    const response = await deleteAccount(
      `Bearer ${tokens.access_token}`,
      { password: PASSWORD },
      {
        'user-agent': 'DeletionTest/1.0',
      },
    );
    expect(response.status).toBe(204);
    const event = auditEvents().find(
      (candidate) => candidate.type === 'sdu' && candidate.user_id === user.user_id,
    );
    expect(event).toEqual({
      time: expect.any(String),
      level: 'info',
      message: 'auth event',
      audit: true,
      type: 'sdu',
      description: 'User deleted their account',
      realm: 'customers',
      client_id: 'mobile-app',
      user_id: user.user_id,
      request_id: expect.any(String),
    });
    expect(JSON.stringify(event)).not.toMatch(/audra|DeletionTest|127\.0\.0\.1/);
  });

  it('takes a form body as well', async () => {
    await addUser(server, { username: 'fern', password: PASSWORD });
    const tokens = await signIn('fern');
    const response = await fetch(`${server.issuer}account/delete`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ password: PASSWORD }),
    });
    expect(response.status).toBe(204);
  });

  it('refuses a wrong password with invalid_grant, under the login limits', async () => {
    const user = await addUser(server, { username: 'wanda', password: PASSWORD });
    const tokens = await signIn('wanda');
    for (let attempt = 0; attempt < MAX_FAILURES; attempt += 1) {
      const wrong = await deleteAccount(`Bearer ${tokens.access_token}`, { password: `wrong ${attempt}` });
      expect(wrong.status).toBe(400);
      expect(await json(wrong)).toEqual({
        error: 'invalid_grant',
        error_description: 'Wrong email or password.',
      });
    }
    // The guesses counted as a login's do: the next one, even with the right password, is refused.
    const blocked = await deleteAccount(`Bearer ${tokens.access_token}`, { password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect((await json(blocked)).error).toBe('too_many_attempts');
    const login = await passwordLogin('wanda');
    expect(login.status).toBe(429);
    expect(await adminServices(server).users.findById('customers', user.user_id)).toBeDefined();
  });

  it('ends the run of failures after the right password, as a login does', async () => {
    await addUser(server, { username: 'rhea', password: PASSWORD });
    const tokens = await signIn('rhea');
    for (let attempt = 0; attempt < MAX_FAILURES - 1; attempt += 1) {
      expect((await deleteAccount(`Bearer ${tokens.access_token}`, { password: 'nope nope' })).status).toBe(
        400,
      );
    }
    expect((await deleteAccount(`Bearer ${tokens.access_token}`, { password: PASSWORD })).status).toBe(204);
    await addUser(server, { username: 'rhea', password: PASSWORD });
    // Had the failures stayed, the next wrong one would block: it does not.
    await signIn('rhea');
    const wrong = await passwordLogin('rhea', 'nope nope');
    expect(wrong.status).toBe(400);
    await signIn('rhea');
  });

  it('refuses a client without allowAccountDeletion with 403 unauthorized_client, before the password', async () => {
    const user = await addUser(server, { username: 'kira', password: PASSWORD });
    const tokens = await signIn('kira', 'kiosk');
    const response = await deleteAccount(`Bearer ${tokens.access_token}`, { password: 'not even checked' });
    expect(response.status).toBe(403);
    expect(await json(response)).toEqual({
      error: 'unauthorized_client',
      error_description: 'The client is not allowed to delete accounts.',
    });
    expect(await adminServices(server).users.findById('customers', user.user_id)).toBeDefined();
    expect((await refresh(tokens.refresh_token, 'kiosk')).status).toBe(200);
  });

  it('answers 401 with WWW-Authenticate without a token or with a bad one', async () => {
    const none = await deleteAccount(undefined, { password: PASSWORD });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="passgate", DPoP algs="[^"]+"$/);
    expect((await json(none)).error).toBe('invalid_token');

    // No body at all: still the 401, since the token is checked first.
    const bare = await fetch(`${server.issuer}account/delete`, { method: 'POST' });
    expect(bare.status).toBe(401);

    const forged = await deleteAccount('Bearer not.a.token', { password: PASSWORD });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer realm="passgate", error="invalid_token"/);
  });

  it('refuses a missing password with invalid_request, and a bad body', async () => {
    await addUser(server, { username: 'mia', password: PASSWORD });
    const tokens = await signIn('mia');
    const missing = await deleteAccount(`Bearer ${tokens.access_token}`, {});
    expect(missing.status).toBe(400);
    expect(await json(missing)).toEqual({
      error: 'invalid_request',
      error_description: "Missing required parameter 'password'.",
    });
    const twice = await fetch(`${server.issuer}account/delete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: `{"password":"${PASSWORD}","password":"other"}`,
    });
    expect(twice.status).toBe(400);
    expect((await json(twice)).error).toBe('invalid_request');
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
  });

  it('takes a DPoP-bound token only with a proof of its key', async () => {
    const user = await addUser(server, { username: 'dana', password: PASSWORD });
    const key = await dpopKey();
    const login = await server.token(
      { grant_type: 'password', client_id: 'mobile-app', username: 'dana', password: PASSWORD },
      { DPoP: await dpopProof(key, { htm: 'POST', htu: `${server.issuer}oauth/token` }) },
    );
    const { access_token: accessToken } = await json(login);
    expect(decodeJwt(accessToken).cnf).toEqual({ jkt: key.jkt });

    const asBearer = await deleteAccount(`Bearer ${accessToken}`, { password: PASSWORD });
    expect(asBearer.status).toBe(401);
    const proofFor = (htu: string) => dpopProof(key, { htm: 'POST', htu, accessToken });
    const wrongTarget = await deleteAccount(
      `DPoP ${accessToken}`,
      { password: PASSWORD },
      { DPoP: await proofFor(`${server.issuer}userinfo`) },
    );
    expect(wrongTarget.status).toBe(401);
    expect((await json(wrongTarget)).error).toBe('invalid_dpop_proof');
    expect(await adminServices(server).users.findById('customers', user.user_id)).toBeDefined();

    const deleted = await deleteAccount(
      `DPoP ${accessToken}`,
      { password: PASSWORD },
      { DPoP: await proofFor(`${server.issuer}account/delete`) },
    );
    expect(deleted.status).toBe(204);
    expect(await adminServices(server).users.findById('customers', user.user_id)).toBeUndefined();
  });
});
