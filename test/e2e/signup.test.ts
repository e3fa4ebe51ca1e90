import { AuthApiError, AuthenticationClient } from 'auth0';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { hashClientSecret } from '../../functions/oauth/client-auth.ts';
import { API, testConfig } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { outboxMails } from '../helpers/outbox.ts';

const SHOP_SECRET = 'shop-app-test-secret-0123456789abcdefghijklmnopq';

/** Customers verify their address before they sign in; members need not; employees cannot sign up. */
function signupConfig(): TenantConfigInput {
  const base = testConfig();
  const [customers, employees] = base.realms;
  return {
    ...base,
    name: 'Acme Shop',
    email: { from: 'no-reply@shop.example', replyTo: 'help@shop.example' },
    realms: [
      { ...customers, signup: { enabled: true }, emailVerification: 'required' } as never,
      employees as never,
      { name: 'members', signup: { enabled: true }, emailVerification: 'off' },
    ],
    clients: [
      {
        clientId: 'shop-app',
        name: 'Shop app',
        // Auth0's Node SDK is for servers: its password grant authenticates the client.
        clientSecretHash: hashClientSecret(SHOP_SECRET),
        grantTypes: [GRANT_PASSWORD_REALM],
        realms: ['customers', 'employees', 'members'],
      },
      ...base.clients,
    ],
  };
}

let server: TestServer;
let auth0: AuthenticationClient;
/** Auth0's SDK for a client of the test server: it speaks https to `domain`, the server plain http. */
function sdk(clientId: string): AuthenticationClient {
  const { host, origin } = new URL(server.issuer);
  const plain: typeof fetch = (url, init) =>
    fetch(String(url instanceof Request ? url.url : url).replace(`https://${host}`, origin), init);
  return new AuthenticationClient({ domain: host, clientId, clientSecret: SHOP_SECRET, fetch: plain });
}
beforeAll(async () => {
  server = await startTestServer({ config: signupConfig() });
  auth0 = sdk('shop-app');
});
afterAll(() => server?.stop());

let sequence = 0;
const address = (tag: string) => `${tag}.${Date.now().toString(36)}${sequence++}@Example.COM`;
const PASSWORD = 'walnut lantern quietly drifts';

async function refusal(
  promise: Promise<unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthApiError);
    const apiError = error as AuthApiError;
    return { status: apiError.statusCode, body: JSON.parse(apiError.body) as Record<string, unknown> };
  }
  throw new Error('the SDK call succeeded');
}

/** The SDK's sign-up, its answer as the JSON it is (the SDK's type leaves out `_id`). */
const signUp = async (body: Parameters<AuthenticationClient['database']['signUp']>[0]) => {
  const { data, status } = await auth0.database.signUp(body);
  return { status, data: data as unknown as Record<string, unknown> & { _id: string; email: string } };
};

const login = (username: string, realm: string, password = PASSWORD) =>
  auth0.oauth.passwordGrant({ username, password, realm, audience: API });

describe("sign-up with Auth0's Node SDK", () => {
  it('signs a user up, who then signs in with the password-realm grant (no verification in the realm)', async () => {
    const email = address('mia');
    const { data, status } = await signUp({
      email,
      password: PASSWORD,
      connection: 'members',
      given_name: 'Mia',
      family_name: 'Wong',
      user_metadata: { plan: 'trial' },
    });
    expect(status).toBe(200);
    expect(data).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      id: data._id,
      email: email.replace('@Example.COM', '@example.com'),
      email_verified: false,
      given_name: 'Mia',
      family_name: 'Wong',
      user_metadata: { plan: 'trial' },
    });
    const tokens = await login(email, 'members');
    expect(tokens.data.token_type).toBe('Bearer');
    expect(outboxMails(server.dataDir).filter((mail) => mail.to.startsWith('mia.'))).toEqual([]);
  });

  it('refuses the login until the link from the outbox is opened, where the realm requires it', async () => {
    const email = address('zoe');
    const { data } = await signUp({ email, password: PASSWORD, connection: 'customers' });
    const refused = await refusal(login(email, 'customers'));
    expect(refused).toEqual({
      status: 403,
      body: { error: 'access_denied', error_description: 'Please verify your email before logging in.' },
    });
    // A wrong password is still the wrong password: the address's state shows only after the right one.
    expect((await refusal(login(email, 'customers', 'not the password at all'))).body.error).toBe(
      'invalid_grant',
    );

    const [mail, ...others] = outboxMails(server.dataDir).filter((m) => m.to === data.email);
    expect(others).toEqual([]);
    expect(mail?.subject).toBe('Verify your email address for Acme Shop');
    expect(mail?.link).toMatch(new RegExp(`^${server.issuer}verify-email\\?ticket=[A-Za-z0-9_-]{43}$`));
    const page = await fetch(mail?.link as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Email verified</h1>');
    const again = await fetch(mail?.link as string);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('<h1>This link has expired</h1>');

    const tokens = await auth0.oauth.passwordGrant({
      username: email,
      password: PASSWORD,
      realm: 'customers',
      audience: API,
      scope: 'read:orders',
    });
    expect((tokens.data as { scope?: string }).scope).toBe('read:orders');
    // The ID token and userinfo say the address is verified (checked here with jose: the SDK
    // would insist on an https issuer).
    const direct = await server.token({
      grant_type: GRANT_PASSWORD_REALM,
      client_id: 'shop-app',
      client_secret: SHOP_SECRET,
      username: email,
      password: PASSWORD,
      realm: 'customers',
      scope: 'openid email',
    });
    const { id_token, access_token } = (await direct.json()) as { id_token: string; access_token: string };
    const { payload } = await jwtVerify(
      id_token,
      createRemoteJWKSet(new URL('.well-known/jwks.json', server.issuer)),
      {
        issuer: server.issuer,
        audience: 'shop-app',
      },
    );
    expect(payload).toMatchObject({ email: data.email, email_verified: true });
    const userinfo = await fetch(`${server.issuer}userinfo`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({ email: data.email, email_verified: true });
  });

  it('answers a sign-up with an address that has an account exactly like a new one, and tells its owner', async () => {
    const email = address('liam');
    const first = await signUp({
      email,
      password: PASSWORD,
      connection: 'customers',
      name: 'Liam',
    });
    const [verification] = outboxMails(server.dataDir).filter((m) => m.to === first.data.email);
    await fetch(verification?.link as string);
    const again = await signUp({
      email,
      password: 'another passphrase entirely',
      connection: 'customers',
      name: 'Liam',
    });
    expect(again.status).toBe(first.status);
    expect(Object.keys(again.data).sort()).toEqual(Object.keys(first.data).sort());
    expect({ ...again.data, _id: 'x', id: 'x' }).toEqual({ ...first.data, _id: 'x', id: 'x' });
    expect(again.data._id).not.toBe(first.data._id);
    const mails = outboxMails(server.dataDir).filter((m) => m.to === first.data.email);
    expect(mails.map((m) => m.subject)).toEqual([
      'Verify your email address for Acme Shop',
      'Someone tried to sign up for Acme Shop with your address',
    ]);
    expect(mails[1]?.link).toBeUndefined();
    // The account is the first one, password and all.
    await login(email, 'customers');
    expect((await refusal(login(email, 'customers', 'another passphrase entirely'))).status).toBe(400);
  });

  it('refuses an address that has an account with invalid_signup where the realm does not verify addresses', async () => {
    const email = address('noah');
    await auth0.database.signUp({ email, password: PASSWORD, connection: 'members' });
    expect(
      await refusal(auth0.database.signUp({ email, password: PASSWORD, connection: 'members' })),
    ).toEqual({
      status: 400,
      body: {
        name: 'BadRequestError',
        code: 'invalid_signup',
        description: 'Invalid sign up',
        statusCode: 400,
      },
    });
  });

  it('refuses a blocklisted password with invalid_password, naming the rule', async () => {
    const common = await refusal(
      auth0.database.signUp({ email: address('ava'), password: 'Password1', connection: 'customers' }),
    );
    expect(common).toEqual({
      status: 400,
      body: {
        name: 'PasswordDictionaryError',
        message: 'Password is too common',
        code: 'invalid_password',
        description: 'Password is not allowed, it might be too common.',
        statusCode: 400,
      },
    });
    const short = await refusal(
      auth0.database.signUp({ email: address('ava'), password: 'short', connection: 'customers' }),
    );
    expect(short.body).toEqual({
      name: 'PasswordStrengthError',
      message: 'Password is too weak',
      code: 'invalid_password',
      description: {
        rules: [
          {
            message: 'At least %d characters in length',
            format: [8],
            code: 'lengthAtLeast',
            verified: false,
          },
          { message: 'At most %d bytes', format: [1024], code: 'lengthAtMost', verified: true },
        ],
        verified: false,
      },
      policy: '* At least 8 characters in length\n* At most 1024 bytes',
      statusCode: 400,
    });
    const personal = await refusal(
      auth0.database.signUp({
        email: 'gabriel.costa@example.com',
        password: 'gabriel.costa 1990',
        connection: 'customers',
      }),
    );
    expect(personal.body).toMatchObject({ name: 'PasswordNoUserInfoError', code: 'invalid_password' });
  });

  it('refuses a realm without sign-up, and one the client lacks or that does not exist, alike', async () => {
    expect(
      await refusal(
        auth0.database.signUp({ email: address('eli'), password: PASSWORD, connection: 'employees' }),
      ),
    ).toEqual({
      status: 403,
      body: {
        name: 'BadRequestError',
        code: 'operation_not_supported',
        description: 'Public signup is disabled',
        statusCode: 403,
      },
    });
    const lacking = await refusal(
      sdk('mobile-app').database.signUp({ email: address('eli'), password: PASSWORD, connection: 'members' }),
    );
    const unknown = await refusal(
      auth0.database.signUp({ email: address('eli'), password: PASSWORD, connection: 'nowhere' }),
    );
    for (const answer of [lacking, unknown]) {
      expect(answer).toEqual({
        status: 400,
        body: {
          name: 'BadRequestError',
          code: 'bad.connection',
          description: 'The connection does not exist or is not enabled for this client.',
          statusCode: 400,
        },
      });
    }
  });
});
