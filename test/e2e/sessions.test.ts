import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteUser, setBlocked, setPassword } from '../../functions/admin/user-admin.ts';
import { importUsers } from '../../functions/admin/user-import.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { runCli as runPassgate } from '../helpers/cli.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { backoffice, mobileApp, type OAuthClient, oauthClient } from '../helpers/oauth-client.ts';
import { addUser, adminServices } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';
const SCOPE = 'openid profile offline_access read:orders';

let server: TestServer;
let app: OAuthClient;
let counter = 0;

beforeAll(async () => {
  server = await startTestServer();
  app = await oauthClient(server);
  await addUser(server, { realm: 'employees', username: 'erin', password: PASSWORD });
});
afterAll(() => server.stop());

/** A fresh user per test, so that blocking or deleting one never touches another test. */
async function signedIn(scope = SCOPE) {
  const username = `user${counter++}`;
  const user = await addUser(server, { username, password: PASSWORD, name: username });
  const tokens = await app.login(mobileApp, { username, password: PASSWORD, scope });
  return { username, user, tokens, refreshToken: tokens.refresh_token as string };
}

const refused = { error: 'invalid_grant', status: 400 };

/** `npx passgate …` against the running server's config and data dir. */
async function runCli(args: string[], input: string) {
  const { code, stdout, stderr } = await runPassgate(args, {
    env: { PASSGATE_CONFIG: server.configPath, PASSGATE_DATA_DIR: server.dataDir },
    stdin: input,
  });
  return { status: code, stdout, stderr };
}

describe('a mobile app session', () => {
  it('logs in, refreshes twice with rotation, then signs out by revoking', async () => {
    const { tokens, user } = await signedIn();
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{100,}$/);

    const second = await app.refresh(mobileApp, tokens.refresh_token as string);
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    expect(second.scope).toBe(SCOPE);
    expect(decodeJwt(second.access_token)).toMatchObject({
      gty: 'refresh_token',
      sub: `customers|${user.user_id}`,
      client_id: 'mobile-app',
      scope: SCOPE,
    });
    expect(second.id_token).toBeDefined();

    const third = await app.refresh(mobileApp, second.refresh_token as string);
    expect(third.refresh_token).not.toBe(second.refresh_token);

    await app.revoke(mobileApp, third.refresh_token as string, 'refresh_token');
    await expect(app.refresh(mobileApp, third.refresh_token as string)).rejects.toMatchObject(refused);
  });

  it('answers refresh grants with no-store and the same error body for every refused token', async () => {
    const { refreshToken } = await signedIn();
    await app.revoke(mobileApp, refreshToken);
    const revoked = await server.token({
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: refreshToken,
    });
    const unknown = await server.token({
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: 'x'.repeat(43),
    });
    for (const response of [revoked, unknown]) {
      expect(response.status).toBe(400);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await json(response)).toEqual({
        error: 'invalid_grant',
        error_description: 'Unknown or invalid refresh token.',
      });
    }
  });

  it('issues no refresh token without offline_access', async () => {
    const { tokens } = await signedIn('openid read:orders');
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('narrows the scope of a refreshed access token on request, never widens it', async () => {
    const { refreshToken } = await signedIn();
    const narrowed = await app.refresh(mobileApp, refreshToken, { scope: 'read:orders' });
    // The answer carries a rotated refresh token: offline_access is granted (RFC 6749 §5.1).
    expect(narrowed.scope).toBe('read:orders offline_access');
    await expect(
      app.refresh(mobileApp, narrowed.refresh_token as string, { scope: 'read:orders write:orders' }),
    ).rejects.toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('gives a confidential client refresh tokens for the password-realm grant', async () => {
    const tokens = await app.login(
      backoffice,
      { realm: 'employees', username: 'erin', password: PASSWORD, scope: 'offline_access' },
      GRANT_PASSWORD_REALM,
    );
    const refreshed = await app.refresh(backoffice, tokens.refresh_token as string);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({
      gty: 'refresh_token',
      client_id: 'backoffice',
    });
  });
});

describe('refused refresh tokens', () => {
  it('refuses a rotated-out token and ends its family, the newest token included', async () => {
    const { refreshToken } = await signedIn();
    const newest = (await app.refresh(mobileApp, refreshToken)).refresh_token as string;
    await expect(app.refresh(mobileApp, refreshToken)).rejects.toMatchObject(refused);
    await expect(app.refresh(mobileApp, newest)).rejects.toMatchObject(refused);
  });

  it("refuses another client's token and leaves it working for its own client", async () => {
    const { refreshToken } = await signedIn();
    await expect(app.refresh(backoffice, refreshToken)).rejects.toMatchObject(refused);
    expect((await app.refresh(mobileApp, refreshToken)).refresh_token).toBeDefined();
  });

  it('refuses a revoked token', async () => {
    const { refreshToken } = await signedIn();
    const newest = (await app.refresh(mobileApp, refreshToken)).refresh_token as string;
    await app.revoke(mobileApp, refreshToken); // a rotated-out token still ends its family
    await expect(app.refresh(mobileApp, newest)).rejects.toMatchObject(refused);
  });

  it.each([
    ['blocked', (username: string) => setBlocked(adminServices(server), 'customers', username, true)],
    ['deleted', (username: string) => deleteUser(adminServices(server), 'customers', username)],
    [
      'given a new password',
      (username: string) => setPassword(adminServices(server), 'customers', username, 'a brand new password'),
    ],
  ])('refuses the tokens of a user who was %s', async (_name, change) => {
    const { username, refreshToken } = await signedIn();
    await change(username);
    await expect(app.refresh(mobileApp, refreshToken)).rejects.toMatchObject(refused);
  });

  it('refuses the tokens of a deleted user when an import creates them again with the same user_id', async () => {
    const username = `user${counter++}`;
    const row = {
      user_id: `legacy|${username}`,
      username,
      email: `${username}@example.com`,
      password: PASSWORD,
    };
    const report = await importUsers(adminServices(server), {
      realm: 'customers',
      rows: [{ row: 1, value: row }],
    });
    expect(report.imported).toBe(1);
    const tokens = await app.login(mobileApp, { username, password: PASSWORD, scope: SCOPE });
    await deleteUser(adminServices(server), 'customers', username);
    // The same file imported again: same username, same user_id, a new user.
    await importUsers(adminServices(server), { realm: 'customers', rows: [{ row: 1, value: row }] });
    await expect(app.refresh(mobileApp, tokens.refresh_token as string)).rejects.toMatchObject(refused);
    const again = await app.login(mobileApp, { username, password: PASSWORD, scope: SCOPE });
    expect((await app.refresh(mobileApp, again.refresh_token as string)).refresh_token).toBeDefined();
  });

  it('keeps the tokens of a blocked user dead after unblocking; a new login works', async () => {
    const { username, refreshToken } = await signedIn();
    await setBlocked(adminServices(server), 'customers', username, true);
    await setBlocked(adminServices(server), 'customers', username, false);
    await expect(app.refresh(mobileApp, refreshToken)).rejects.toMatchObject(refused);
    const again = await app.login(mobileApp, { username, password: PASSWORD, scope: SCOPE });
    expect((await app.refresh(mobileApp, again.refresh_token as string)).refresh_token).toBeDefined();
  });

  it('ends sessions through the operator CLI while the server runs', async () => {
    const { username, refreshToken } = await signedIn();
    const other = await signedIn();
    // Asynchronously: the server (and its store) runs in this very process and must keep answering.
    const cli = await runCli(
      ['users', 'set-password', '--realm', 'customers', '--username', username, '--password-stdin'],
      'another new password\n',
    );
    expect(cli.stderr).toBe(`passgate: local store ${server.dataDir} (PASSGATE_DATA_DIR)\n`);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/refresh tokens no longer work/);
    await expect(app.refresh(mobileApp, refreshToken)).rejects.toMatchObject(refused);
    expect((await app.refresh(mobileApp, other.refreshToken)).refresh_token).toBeDefined();
    const login = await app.login(mobileApp, { username, password: 'another new password', scope: SCOPE });
    expect(login.refresh_token).toBeDefined();
  });
});

describe('revocation (RFC 7009)', () => {
  const revoke = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${server.issuer}oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    });

  it('answers 200 with no body for unknown tokens and changes nothing for other clients', async () => {
    const { refreshToken } = await signedIn();
    const unknown = await revoke({ client_id: 'mobile-app', token: 'not-a-token' });
    expect(unknown.status).toBe(200);
    expect(unknown.headers.get('cache-control')).toBe('no-store');
    expect(await unknown.text()).toBe('');
    await app.revoke(backoffice, refreshToken);
    expect((await app.refresh(mobileApp, refreshToken)).refresh_token).toBeDefined();
  });

  it('refuses to revoke an access token of its own client with unsupported_token_type', async () => {
    const { tokens } = await signedIn();
    await expect(app.revoke(mobileApp, tokens.access_token, 'access_token')).rejects.toMatchObject({
      error: 'unsupported_token_type',
      status: 400,
    });
    await app.revoke(backoffice, tokens.access_token); // not its token: nothing to say
  });

  it.each([
    ['no token', { client_id: 'mobile-app' }, {}, 400, 'invalid_request'],
    ['an unknown client', { client_id: 'nope', token: 'x' }, {}, 401, 'invalid_client'],
    [
      'a confidential client without its secret',
      { client_id: 'backoffice', token: 'x' },
      {},
      401,
      'invalid_client',
    ],
    [
      'a wrong secret',
      { token: 'x' },
      { authorization: `Basic ${Buffer.from('backoffice:wrong').toString('base64')}` },
      401,
      'invalid_client',
    ],
  ])('refuses a request with %s', async (_name, params, headers, status, error) => {
    const response = await revoke(params as Record<string, string>, headers as Record<string, string>);
    expect(response.status).toBe(status);
    expect((await json(response)).error).toBe(error);
  });
});

describe('discovery', () => {
  it('lists the session endpoints and the refresh_token grant', () => {
    expect(app.as).toMatchObject({
      revocation_endpoint: `${server.issuer}oauth/revoke`,
      introspection_endpoint: `${server.issuer}oauth/introspect`,
      userinfo_endpoint: `${server.issuer}userinfo`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
    expect(app.as.grant_types_supported).toContain('refresh_token');
  });
});
