import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { FixedClock } from '../helpers/memory-ports.ts';
import { mobileApp, type OAuthClient, oauthClient } from '../helpers/oauth-client.ts';
import { addUser } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';
const refused = { error: 'invalid_grant', status: 400 };

let server: TestServer;
let app: OAuthClient;
/** The server's clock: tests move it instead of waiting. */
const clock = new FixedClock(Date.now());

beforeAll(async () => {
  server = await startTestServer({
    clock,
    config: testConfig({
      refreshTokens: { absoluteTtlSeconds: 3600, idleTtlSeconds: 600, reuseLeewaySeconds: 10 },
    }),
  });
  app = await oauthClient(server);
  await addUser(server, { username: 'alice', password: PASSWORD });
});
afterAll(() => server.stop());

const login = async () =>
  (await app.login(mobileApp, { username: 'alice', password: PASSWORD, scope: 'offline_access read:orders' }))
    .refresh_token as string;
const refresh = async (token: string) => (await app.refresh(mobileApp, token)).refresh_token as string;

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
