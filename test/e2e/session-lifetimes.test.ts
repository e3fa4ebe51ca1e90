import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD, GRANT_REFRESH_TOKEN } from '../../functions/config/grant-types.ts';
import { testConfig } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { FixedClock } from '../helpers/memory-ports.ts';
import { type App, mobileApp, type OAuthClient, oauthClient } from '../helpers/oauth-client.ts';
import { addUser } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';
const refused = { error: 'invalid_grant', status: 400 };

let server: TestServer;
let app: OAuthClient;
/** The server's clock: tests move it instead of waiting. */
const clock = new FixedClock(Date.now());
/** A browser app with shorter lifetimes of its own: idle 2 min, absolute 30 min. */
const webApp: App = { client: { client_id: 'web-app' }, auth: oauth.None() };

beforeAll(async () => {
  const config = testConfig({
    refreshTokens: { absoluteTtlSeconds: 3600, idleTtlSeconds: 600, reuseLeewaySeconds: 10 },
  });
  config.clients = [
    ...(config.clients ?? []),
    {
      clientId: 'web-app',
      name: 'Web app',
      grantTypes: [GRANT_PASSWORD, GRANT_REFRESH_TOKEN],
      realms: ['customers'],
      refreshTokens: { absoluteTtlSeconds: 1800, idleTtlSeconds: 120 },
    },
  ];
  server = await startTestServer({ clock, config });
  app = await oauthClient(server);
  await addUser(server, { username: 'alice', password: PASSWORD });
});
afterAll(() => server.stop());

const login = async (client = mobileApp) =>
  (await app.login(client, { username: 'alice', password: PASSWORD, scope: 'offline_access read:orders' }))
    .refresh_token as string;
const refresh = async (token: string, client = mobileApp) =>
  (await app.refresh(client, token)).refresh_token as string;

describe('refresh token lifetimes (absolute 1 h, idle 10 min, leeway 10 s)', () => {
  it('ends a token left unused for the idle lifetime', async () => {
    const first = await login();
    clock.advance(599);
    const second = await refresh(first);
    clock.advance(600);
    await expect(app.refresh(mobileApp, second)).rejects.toMatchObject(refused);
  });

  it('ends the family at its absolute lifetime, however often it was rotated', async () => {
    let token = await login();
    for (let elapsed = 0; elapsed < 3500; elapsed += 500) {
      clock.advance(500);
      token = await refresh(token);
    }
    clock.advance(99); // 3599 s after the login: still inside
    token = await refresh(token);
    clock.advance(1);
    await expect(app.refresh(mobileApp, token)).rejects.toMatchObject(refused);
  });

  it('answers a rotated-out token within the leeway with the same successor, and ends the family after it', async () => {
    const first = await login();
    const second = await refresh(first);
    clock.advance(9);
    expect(await refresh(first)).toBe(second);
    clock.advance(1);
    await expect(app.refresh(mobileApp, first)).rejects.toMatchObject(refused);
    await expect(app.refresh(mobileApp, second)).rejects.toMatchObject(refused);
  });
});

describe("a client's own refresh token lifetimes (web app: absolute 30 min, idle 2 min)", () => {
  it("ends the web app's token after its own idle lifetime while the mobile app's lives on", async () => {
    const web = await login(webApp);
    const mobile = await login();
    clock.advance(119);
    const webNext = await refresh(web, webApp);
    clock.advance(120);
    await expect(app.refresh(webApp, webNext)).rejects.toMatchObject(refused);
    expect(await refresh(mobile)).toMatch(/^[A-Za-z0-9_-]{100,}$/);
  });

  it("ends the web app's family at its own absolute lifetime, with the tenant's still far off", async () => {
    let token = await login(webApp);
    for (let elapsed = 0; elapsed < 1700; elapsed += 100) {
      clock.advance(100);
      token = await refresh(token, webApp);
    }
    clock.advance(99); // 1799 s after the login: still inside
    token = await refresh(token, webApp);
    clock.advance(1);
    await expect(app.refresh(webApp, token)).rejects.toMatchObject(refused);
  });
});
