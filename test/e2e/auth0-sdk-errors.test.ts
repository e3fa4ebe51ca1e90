import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBlocked } from '../../functions/admin/user-admin.ts';
import { GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN } from '../../functions/config/grant-types.ts';
import { API } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser, adminServices } from '../helpers/users.ts';

/**
 * The requests Auth0's mobile SDKs send, replayed as they send them, and their answers classified
 * by the SDKs' own rules. Auth0.swift (Auth0Authentication.swift `login(usernameOrEmail:…realm…)`,
 * `renew(withRefreshToken:)`) and Auth0.Android (AuthenticationAPIClient.kt `login(…, realm)`,
 * `renewAuth`) POST JSON bodies with an `Auth0-Client` header (base64url JSON naming the SDK).
 */
const SDKS = [
  {
    name: 'Auth0.swift',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Auth0-Client': Buffer.from(
        JSON.stringify({ name: 'Auth0.swift', version: '2.10.0', env: { iOS: '17.0', swift: '5.x' } }),
      ).toString('base64url'),
    },
  },
  {
    name: 'Auth0.Android',
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Accept-Language': 'en_US',
      'Auth0-Client': Buffer.from(
        JSON.stringify({ name: 'Auth0.Android', version: '3.2.0', env: { android: '34' } }),
      ).toString('base64url'),
    },
  },
] as const;

/**
 * The SDKs' classification, as both write it (AuthenticationError.swift, AuthenticationException.kt):
 * exact comparisons of `error` and `error_description`. Auth0.Android reads the body only when the
 * response says it is JSON; otherwise the error is `a0.sdk.internal_error.plain` and matches nothing.
 */
interface SdkError {
  readonly code: string;
  readonly description: string;
}
async function sdkError(response: Response): Promise<SdkError> {
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').startsWith('application/json')) {
    return { code: 'a0.sdk.internal_error.plain', description: text };
  }
  const body = JSON.parse(text) as Record<string, string>;
  return {
    code: body.error ?? body.code ?? '',
    description: body.error_description ?? body.description ?? '',
  };
}
const isInvalidCredentials = (e: SdkError) =>
  e.code === 'invalid_user_password' ||
  (e.code === 'invalid_grant' && e.description === 'Wrong email or password.');
const isInvalidRefreshToken = (e: SdkError) =>
  e.code === 'invalid_grant' && e.description === 'Unknown or invalid refresh token.';
const isTooManyAttempts = (e: SdkError) => e.code === 'too_many_attempts';
const isAccessDenied = (e: SdkError) => e.code === 'access_denied';

let server: TestServer;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  server = await startTestServer();
  for (const username of ['swift-user', 'android-user', 'blocked-user'])
    await addUser(server, { username, password: PASSWORD });
  await setBlocked(adminServices(server), 'customers', 'blocked-user', true);
});
afterAll(() => server.stop());

describe.each(SDKS)('an app on $name', (sdk) => {
  const post = (body: Record<string, string>) =>
    fetch(`${server.issuer}oauth/token`, {
      method: 'POST',
      headers: sdk.headers,
      body: JSON.stringify(body),
    });
  const login = (username: string, password: string) =>
    post({
      grant_type: GRANT_PASSWORD_REALM,
      client_id: 'mobile-app',
      username,
      password,
      realm: 'customers',
      audience: API,
      scope: 'openid profile email offline_access',
    });
  const renew = (refreshToken: string) =>
    post({ grant_type: GRANT_REFRESH_TOKEN, client_id: 'mobile-app', refresh_token: refreshToken });

  it('signs in and renews its credentials', async () => {
    const response = await login(sdk.name === 'Auth0.swift' ? 'swift-user' : 'android-user', PASSWORD);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { refresh_token: string };
    expect(body).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
    const renewed = await renew(body.refresh_token);
    expect(renewed.status).toBe(200);
  });

  it('tells wrong credentials apart, whether the user is unknown, mistyped or blocked', async () => {
    for (const [username, password] of [
      ['nobody-here', PASSWORD],
      [sdk.name === 'Auth0.swift' ? 'swift-user' : 'android-user', 'wrong password'],
      ['blocked-user', 'wrong password'],
    ] as const) {
      const response = await login(username, password);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/json');
      const error = await sdkError(response);
      expect(isInvalidCredentials(error), username).toBe(true);
      expect(isInvalidRefreshToken(error)).toBe(false);
    }
    // The right password of a blocked user is the one thing that says "blocked".
    const blocked = await sdkError(await login('blocked-user', PASSWORD));
    expect([isAccessDenied(blocked), isInvalidCredentials(blocked)]).toEqual([true, false]);
  });

  it('knows the session ended when its refresh token was rotated out, revoked or never existed', async () => {
    const first = (await (
      await login(sdk.name === 'Auth0.swift' ? 'swift-user' : 'android-user', PASSWORD)
    ).json()) as { refresh_token: string };
    expect((await renew(first.refresh_token)).status).toBe(200);
    // Presenting the rotated-out token again ends the family; both answers say "log in again".
    for (const token of [first.refresh_token, first.refresh_token, 'never-issued']) {
      const response = await renew(token);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/json');
      const error = await sdkError(response);
      expect(isInvalidRefreshToken(error)).toBe(true);
      expect(isInvalidCredentials(error)).toBe(false);
    }
  });

  it('reads every other refusal as JSON too, so the SDK sees its code', async () => {
    for (const response of [
      await post({ grant_type: 'urn:unknown', client_id: 'mobile-app' }),
      await post({ grant_type: GRANT_REFRESH_TOKEN, client_id: 'no-such-client', refresh_token: 'x' }),
      await fetch(`${server.issuer}oauth/token`, {
        method: 'POST',
        headers: sdk.headers,
        body: JSON.stringify({ grant_type: 'password', padding: 'x'.repeat(20_000) }),
      }),
      await fetch(`${server.issuer}no/such/path`, { headers: sdk.headers }),
    ]) {
      expect(response.headers.get('content-type'), String(response.status)).toBe('application/json');
      const error = await sdkError(response);
      expect(error.code).toMatch(/^[a-z_]+$/);
      expect([isInvalidCredentials(error), isInvalidRefreshToken(error), isTooManyAttempts(error)]).toEqual([
        false,
        false,
        false,
      ]);
    }
  });
});
