import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';

let strict: TestServer;
let lenient: TestServer;
beforeAll(async () => {
  strict = await startTestServer();
  lenient = await startTestServer({
    config: testConfig({
      refreshTokens: { absoluteTtlSeconds: 3600, idleTtlSeconds: 600, reuseLeewaySeconds: 30 },
    }),
  });
  for (const server of [strict, lenient]) await addUser(server, { username: 'alice', password: PASSWORD });
});
afterAll(async () => {
  await strict.stop();
  await lenient.stop();
});

async function login(server: TestServer): Promise<string> {
  const response = await server.token({
    grant_type: 'password',
    client_id: 'mobile-app',
    username: 'alice',
    password: PASSWORD,
    scope: 'offline_access',
  });
  return (await json(response)).refresh_token;
}

const refresh = (server: TestServer, token: string) =>
  server.token({ grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: token });

/** Fires n refreshes with one token at once, over n connections. */
async function race(server: TestServer, token: string, n: number) {
  const responses = await Promise.all(Array.from({ length: n }, () => refresh(server, token)));
  return Promise.all(
    responses.map(async (response) => ({ status: response.status, body: await json(response) })),
  );
}

describe.each([2, 8])('%i parallel refreshes with one token', (n) => {
  it('give exactly one success at leeway 0, and leave no live token in the family', async () => {
    const token = await login(strict);
    const results = await race(strict, token, n);
    const won = results.filter((result) => result.status === 200);
    expect(won).toHaveLength(1);
    for (const lost of results.filter((result) => result.status !== 200)) {
      expect(lost).toEqual({
        status: 400,
        body: {
          error: 'invalid_grant',
          error_description: 'Unknown or invalid refresh token.',
        },
      });
    }
    // Every loser presented a token that was rotated out by then: reuse, so the family ended,
    // and the winner's successor is as dead as the presented token.
    expect((await refresh(strict, won[0]?.body.refresh_token)).status).toBe(400);
    expect((await refresh(strict, token)).status).toBe(400);
  });

  it('all succeed within the leeway with one and the same successor: the family never forks', async () => {
    const token = await login(lenient);
    const results = await race(lenient, token, n);
    expect(results.map((result) => result.status)).toEqual(Array(n).fill(200));
    const successors = new Set(results.map((result) => result.body.refresh_token));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    const next = await refresh(lenient, successor);
    expect(next.status).toBe(200);
    expect((await json(next)).refresh_token).not.toBe(successor);
  });
});
