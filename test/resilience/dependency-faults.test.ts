import { execFileSync } from 'node:child_process';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_MFA_OTP, GRANT_MFA_RECOVERY_CODE } from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { guessesAt } from '../../functions/oauth/mfa/guesses.ts';
import { usernameKey } from '../../functions/oauth/passwords/normalize.ts';
import { readLoginCounters } from '../../functions/oauth/protection/brute-force.ts';
import { BACKOFFICE_SECRET, testConfig } from '../helpers/config.ts';
import { type DpopKey, dpopKey, dpopProof } from '../helpers/dpop.ts';
import { proxyEvent } from '../helpers/events.ts';
import { type FaultableDeployment, faultableDeployment } from '../helpers/faultable-services.ts';
import type { Fault } from '../helpers/faults.ts';

let deployment: FaultableDeployment;
let sequence = 0;
/** How many fault points were injected in this file (reported in the issue note). */
let faultPoints = 0;

/**
 * The test config, plus a realm that requires MFA, which the mobile app may sign into; the mobile
 * app's users may delete their accounts, and reset their passwords by mail.
 */
function withMfaRealm(): TenantConfigInput {
  const base = testConfig({ email: { from: 'no-reply@example.com' } });
  return {
    ...base,
    realms: [
      ...(base.realms ?? []).map((realm) =>
        realm.name === 'customers' ? { ...realm, passwordReset: { enabled: true } } : realm,
      ),
      { name: 'members', mfa: { policy: 'required' } },
    ],
    clients: (base.clients ?? []).map((client) =>
      client.clientId === 'mobile-app'
        ? {
            ...client,
            realms: [...client.realms, 'members'],
            grantTypes: [...client.grantTypes, GRANT_MFA_OTP, GRANT_MFA_RECOVERY_CODE],
            allowAccountDeletion: true,
          }
        : client,
    ),
  };
}

beforeAll(async () => {
  deployment = await faultableDeployment(withMfaRealm());
});
afterAll(async () => {
  console.log(`dependency-faults: ${faultPoints} fault points injected`);
  await deployment.close();
});

const PASSWORD = 'correct horse battery staple';
const form = (
  params: Record<string, string>,
  extra: { sourceIp?: string; headers?: Record<string, string> } = {},
) =>
  proxyEvent({
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra.headers },
    body: new URLSearchParams(params).toString(),
    sourceIp: extra.sourceIp,
  });
const body = (response: APIGatewayProxyResult) => JSON.parse(response.body || '{}');

async function login(username: string, scope = 'openid offline_access read:orders', sourceIp?: string) {
  return deployment.call(
    'token',
    form(
      { grant_type: 'password', client_id: 'mobile-app', username, password: PASSWORD, scope },
      { sourceIp },
    ),
  );
}
const refresh = (token: string) =>
  deployment.call(
    'token',
    form({ grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: token }),
  );

/** One flow a client runs; `check` proves the state is sound after `act` met a fault. */
interface Flow<Context> {
  readonly name: string;
  /** The status of a fault-free run. */
  readonly ok: number;
  prepare(): Promise<Context>;
  act(context: Context): Promise<APIGatewayProxyResult>;
  check(context: Context, response: APIGatewayProxyResult, fault: Fault): Promise<void>;
}

const freshUser = async () => {
  const username = `user${sequence++}`;
  await deployment.addUser(username, PASSWORD);
  return username;
};
const loginsOf = async (username: string) =>
  (await deployment.services.users.findByUsername('customers', usernameKey(username)))?.logins_count;

/** The brute-force counters of `username` from `ip`, as the next login would read them. */
async function countersOf(username: string, ip: string) {
  const realm = deployment.services.config.realms[0];
  if (!realm) throw new Error('no realm');
  const counters = await readLoginCounters(
    deployment.services,
    realm,
    usernameKey(username),
    ip,
    Math.floor(Date.now() / 1000),
  );
  return [counters.state.consecutiveFailures, counters.state.ipFailures];
}
/** The refresh token store's records (families and tokens) of `username`. */
async function sessionRecordsOf(username: string) {
  const { Items } = await deployment.store.db.send(
    new ScanCommand({
      TableName: deployment.store.names['refresh-tokens'],
      FilterExpression: 'username_key = :key',
      ExpressionAttributeValues: { ':key': usernameKey(username) },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}
let ipSequence = 0;
/** An IP no other attempt of this file used, so its day holds only this flow's attempts. */
const freshIp = () =>
  `10.${Math.floor(ipSequence / 250) % 250}.${ipSequence % 250}.${(ipSequence++ % 7) + 1}`;

const passwordLogin: Flow<{ username: string; ip: string }> = {
  name: 'password grant (tokens, refresh token, login count, counters)',
  ok: 200,
  prepare: async () => ({ username: await freshUser(), ip: freshIp() }),
  act: ({ username, ip }) => login(username, undefined, ip),
  async check({ username, ip }, response, fault) {
    // A success leaves nothing counted; a 503 leaves the attempt counted at most once on each limit
    // (a right password whose refund of the IP's day failed stays counted there: fail closed).
    expect([
      [0, 0],
      [0, 1],
      [1, 1],
    ]).toContainEqual(await countersOf(username, ip));
    if (response.statusCode === 200) expect(await countersOf(username, ip)).toEqual([0, 0]);
    // A failed login counts nothing and leaves no session behind, not even one nobody holds a
    // token for; the next login works.
    if (response.statusCode === 503) expect(await sessionRecordsOf(username)).toEqual([]);
    const again = await login(username);
    expect(again.statusCode).toBe(200);
    // Counted once, never twice. Only when every answer to the count's write was lost can the
    // 503 follow a count that landed: no one can know, but the count and last_login moved together.
    const logins = await loginsOf(username);
    if (response.statusCode === 503 && fault === 'lost') expect([1, 2]).toContain(logins);
    else expect(logins).toBe(response.statusCode === 200 ? 2 : 1);
    for (const answer of [response, again].filter((r) => r.statusCode === 200)) {
      expect((await refresh(body(answer).refresh_token)).statusCode).toBe(200);
    }
  },
};

const wrongPassword: Flow<{ username: string; ip: string }> = {
  name: 'wrong password (brute-force counters)',
  ok: 400,
  prepare: async () => ({ username: await freshUser(), ip: freshIp() }),
  act: ({ username, ip }) =>
    deployment.call(
      'token',
      form(
        { grant_type: 'password', client_id: 'mobile-app', username, password: 'wrong password' },
        { sourceIp: ip },
      ),
    ),
  async check({ username, ip }, response) {
    // Counted once on both limits: never lost, never twice. The count is written before the
    // password is checked, so a 503 leaves the guess counted on both or, unchecked, on neither.
    if (response.statusCode === 400) expect(await countersOf(username, ip)).toEqual([1, 1]);
    else
      expect([
        [0, 0],
        [1, 1],
      ]).toContainEqual(await countersOf(username, ip));
  },
};

const refreshGrant: Flow<{ token: string }> = {
  name: 'refresh grant (rotation)',
  ok: 200,
  async prepare() {
    const response = await login(await freshUser());
    return { token: body(response).refresh_token };
  },
  act: ({ token }) => refresh(token),
  async check({ token }, response, fault) {
    if (response.statusCode === 200) {
      // The successor is the one live token of the family.
      expect((await refresh(body(response).refresh_token)).statusCode).toBe(200);
    } else {
      const retried = await refresh(token);
      if (fault === 'lost' && retried.statusCode === 400) {
        // The rotation landed but every answer was lost: with no reuse leeway the old token now
        // reads as reuse and the family ends. Cleanly dead: no token of it works, the user signs in.
        expect(body(retried).error).toBe('invalid_grant');
        expect((await refresh(token)).statusCode).toBe(400);
        return;
      }
      // Nothing the client holds was lost: its token still works, exactly once.
      expect(retried.statusCode).toBe(200);
      expect((await refresh(body(retried).refresh_token)).statusCode).toBe(200);
    }
  },
};

const revocation: Flow<{ token: string }> = {
  name: 'revocation (family ends)',
  ok: 200,
  async prepare() {
    return { token: body(await login(await freshUser())).refresh_token };
  },
  act: ({ token }) => deployment.call('revoke', form({ client_id: 'mobile-app', token })),
  async check({ token }, response) {
    if (response.statusCode !== 200) {
      expect((await deployment.call('revoke', form({ client_id: 'mobile-app', token }))).statusCode).toBe(
        200,
      );
    }
    expect((await refresh(token)).statusCode).toBe(400);
  },
};

const introspection: Flow<{ token: string }> = {
  name: 'introspection of a refresh token',
  ok: 200,
  async prepare() {
    const username = `staff${sequence++}`;
    const { createUser } = await import('../../functions/admin/user-admin.ts');
    await createUser(deployment.services, { realm: 'employees', username, password: PASSWORD });
    const response = await deployment.call(
      'token',
      form({
        grant_type: 'http://auth0.com/oauth/grant-type/password-realm',
        realm: 'employees',
        client_id: 'backoffice',
        client_secret: BACKOFFICE_SECRET,
        username,
        password: PASSWORD,
        scope: 'offline_access',
      }),
    );
    return { token: body(response).refresh_token };
  },
  act: ({ token }) =>
    deployment.call('introspect', form({ client_id: 'backoffice', client_secret: BACKOFFICE_SECRET, token })),
  async check(_context, response) {
    if (response.statusCode === 200) expect(body(response).active).toBe(true);
  },
};

const userinfo: Flow<{ accessToken: string }> = {
  name: 'userinfo',
  ok: 200,
  async prepare() {
    return { accessToken: body(await login(await freshUser(), 'openid profile')).access_token };
  },
  act: ({ accessToken }) =>
    deployment.call(
      'userinfo',
      proxyEvent({ method: 'GET', path: '/userinfo', headers: { Authorization: `Bearer ${accessToken}` } }),
    ),
  async check(_context, response) {
    if (response.statusCode === 200) expect(body(response).sub).toMatch(/^customers\|/);
  },
};

const membersLogin = (username: string) =>
  deployment.call(
    'token',
    form({
      grant_type: 'http://auth0.com/oauth/grant-type/password-realm',
      realm: 'members',
      client_id: 'mobile-app',
      username,
      password: PASSWORD,
      scope: 'offline_access',
    }),
  );

/** A user of the MFA realm whose password was just accepted: the login's `mfa_token`. */
async function mfaLogin(): Promise<{ username: string; mfaToken: string }> {
  const username = `member${sequence++}`;
  const { createUser } = await import('../../functions/admin/user-admin.ts');
  await createUser(deployment.services, { realm: 'members', username, password: PASSWORD });
  const response = await membersLogin(username);
  expect(body(response).error).toBe('mfa_required');
  return { username, mfaToken: body(response).mfa_token };
}
const associate = (mfaToken: string) =>
  deployment.call(
    'mfa-associate',
    proxyEvent({
      path: '/mfa/associate',
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${mfaToken}` },
      body: JSON.stringify({ authenticator_types: ['otp'] }),
    }),
  );
const otpGrant = (mfaToken: string, otp: string) =>
  deployment.call(
    'token',
    form({ grant_type: GRANT_MFA_OTP, client_id: 'mobile-app', mfa_token: mfaToken, otp }),
  );
/** RFC 6238 codes from Debian's oathtool; `steps` ahead of now (the server accepts one step ahead). */
const code = (base32: string, steps = 0) =>
  execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(Date.now() / 1000) + steps * 30}`, base32], {
    encoding: 'utf8',
  }).trim();
const enrolmentOf = async (username: string) =>
  (await deployment.services.mfa.find('members', usernameKey(username)))?.enrolment;

const mfaAssociate: Flow<{ username: string; mfaToken: string }> = {
  name: 'MFA enrolment (seal the secret, write the pending authenticator)',
  ok: 200,
  prepare: mfaLogin,
  act: ({ mfaToken }) => associate(mfaToken),
  async check({ username, mfaToken }, response) {
    // Never an active authenticator after an enrolment, and never one whose secret is not stored.
    expect((await enrolmentOf(username))?.active ?? false).toBe(false);
    const answer = response.statusCode === 200 ? response : await associate(mfaToken);
    expect(answer.statusCode).toBe(200);
    // The secret the app was shown is the one stored: its code confirms the authenticator.
    expect((await otpGrant(mfaToken, code(body(answer).secret))).statusCode).toBe(200);
    expect((await enrolmentOf(username))?.active).toBe(true);
  },
};

const mfaOtp: Flow<{ username: string; mfaToken: string; secret: string }> = {
  name: 'mfa-otp grant (open the secret, take a guess, accept the code, spend the mfa_token, tokens)',
  ok: 200,
  async prepare() {
    const { username, mfaToken } = await mfaLogin();
    return { username, mfaToken, secret: body(await associate(mfaToken)).secret };
  },
  act: ({ mfaToken, secret }) => otpGrant(mfaToken, code(secret)),
  async check({ username, mfaToken, secret }, response, fault) {
    const state = await deployment.services.mfa.find('members', usernameKey(username));
    if (response.statusCode === 200) {
      expect(state?.enrolment?.active).toBe(true);
      // The guess taken was given back: the bucket is full again.
      expect(guessesAt(state?.guesses, Date.now()).left).toBe(10);
      expect((await refresh(body(response).refresh_token)).statusCode).toBe(200);
      // Spent: the mfa_token finishes one login only.
      expect((await otpGrant(mfaToken, code(secret, 1))).statusCode).toBe(403);
      return;
    }
    // A code not accepted leaves its guess taken (fail closed), never more than one.
    expect(guessesAt(state?.guesses, Date.now()).left).toBeGreaterThanOrEqual(9);
    // The mfa_token still finishes the login, with the next code if this one was used.
    const retried = await otpGrant(mfaToken, code(secret, 1));
    if (fault === 'lost' && retried.statusCode === 403) {
      // The spend landed but every answer was lost: the token is cleanly spent, no tokens left
      // the server, and the user signs in again with the password and a code.
      expect(body(retried)).toEqual({ error: 'invalid_grant', error_description: 'Invalid mfa_token.' });
      const again = await membersLogin(username);
      expect((await otpGrant(body(again).mfa_token, code(secret, 1))).statusCode).toBe(200);
      return;
    }
    expect(retried.statusCode).toBe(200);
    expect((await enrolmentOf(username))?.active).toBe(true);
  },
};

/** The deployment's issuer: what a DPoP proof's `htu` names. */
const ISSUER = 'https://auth.example.com/';

const dpopLogin: Flow<{ username: string; key: DpopKey }> = {
  name: 'password grant with a DPoP proof (replay store)',
  ok: 200,
  prepare: async () => ({ username: await freshUser(), key: await dpopKey() }),
  act: async ({ username, key }) =>
    deployment.call(
      'token',
      form(
        {
          grant_type: 'password',
          client_id: 'mobile-app',
          username,
          password: PASSWORD,
          scope: 'read:orders',
        },
        { headers: { DPoP: await dpopProof(key, { htm: 'POST', htu: `${ISSUER}oauth/token` }) } },
      ),
    ),
  async check({ username, key }, response) {
    if (response.statusCode === 200) expect(body(response).token_type).toBe('DPoP');
    // Whatever was recorded of the failed request, the device's next proof works.
    const again = await dpopLogin.act({ username, key });
    expect(again.statusCode).toBe(200);
    expect(body(again).token_type).toBe('DPoP');
  },
};

const dpopUserinfo: Flow<{ accessToken: string; key: DpopKey }> = {
  name: 'userinfo with a DPoP-bound token (replay store)',
  ok: 200,
  async prepare() {
    const key = await dpopKey();
    const response = await deployment.call(
      'token',
      form(
        {
          grant_type: 'password',
          client_id: 'mobile-app',
          username: await freshUser(),
          password: PASSWORD,
          scope: 'openid',
        },
        { headers: { DPoP: await dpopProof(key, { htm: 'POST', htu: `${ISSUER}oauth/token` }) } },
      ),
    );
    return { accessToken: body(response).access_token, key };
  },
  act: async ({ accessToken, key }) =>
    deployment.call(
      'userinfo',
      proxyEvent({
        method: 'GET',
        path: '/userinfo',
        headers: {
          Authorization: `DPoP ${accessToken}`,
          DPoP: await dpopProof(key, { htm: 'GET', htu: `${ISSUER}userinfo`, accessToken }),
        },
      }),
    ),
  async check(context, response) {
    if (response.statusCode === 200) expect(body(response).sub).toMatch(/^customers\|/);
    expect((await dpopUserinfo.act(context)).statusCode).toBe(200);
  },
};

const deleteAccount = (accessToken: string) =>
  deployment.call(
    'account-delete',
    proxyEvent({
      path: '/account/delete',
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ password: PASSWORD }),
    }),
  );

const accountDeletion: Flow<{ username: string; accessToken: string; refreshToken: string }> = {
  name: 'account deletion (token, password check under the counters, user item deleted)',
  ok: 204,
  async prepare() {
    const username = await freshUser();
    const tokens = body(await login(username));
    return { username, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
  },
  act: ({ accessToken }) => deleteAccount(accessToken),
  async check({ username, accessToken, refreshToken }, response) {
    const exists = async () =>
      (await deployment.services.users.findByUsername('customers', usernameKey(username))) !== undefined;
    if (response.statusCode === 503 && (await exists())) {
      // Nothing was deleted: the user still signs in and refreshes, and the retry deletes.
      expect((await refresh(refreshToken)).statusCode).toBe(200);
      expect((await deleteAccount(accessToken)).statusCode).toBe(204);
    }
    // Deleted (or a 503 whose delete landed before its answer was lost): wholly gone.
    expect(await exists()).toBe(false);
    expect((await refresh(refreshToken)).statusCode).toBe(400);
    expect((await login(username)).statusCode).toBe(400);
  },
};

const RESET_SENTENCE = "We've just sent you an email to reset your password.";
const NEW_PASSWORD = 'reset: a brand new passphrase';

/** A user who signed up with their address as username: the one a reset mail can reach. */
async function freshAddress(): Promise<string> {
  const address = `reset${sequence++}@example.com`;
  const { createUser } = await import('../../functions/admin/user-admin.ts');
  await createUser(deployment.services, {
    realm: 'customers',
    username: address,
    email: address,
    password: PASSWORD,
  });
  return address;
}
const askReset = (email: string, sourceIp: string) =>
  deployment.call(
    'change-password',
    proxyEvent({
      path: '/dbconnections/change_password',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'mobile-app', email, connection: 'customers' }),
      sourceIp,
    }),
  );
/** The link of the newest mail SES took for `address`, if any came after `since` mails. */
const mailedLink = (address: string, since: number) =>
  deployment.ses.sent
    .slice(since)
    .filter((mail) => mail.Destination.ToAddresses.includes(address))
    .map((mail) => /https:\/\/\S+/.exec(mail.Content.Simple.Body.Text.Data)?.[0])
    .at(-1);
const resetPage = (link: string) =>
  deployment.call('reset-password', {
    ...proxyEvent({ method: 'GET', path: '/reset-password' }),
    queryStringParameters: { ticket: new URL(link).searchParams.get('ticket') as string },
  });
const hiddenFields = (page: string) =>
  Object.fromEntries(
    [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)">/g)].map((m) => [m[1], m[2]]),
  ) as Record<string, string>;
const submitReset = (fields: Record<string, string>) =>
  deployment.call(
    'reset-password',
    proxyEvent({
      path: '/reset-password',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...fields,
        new_password: NEW_PASSWORD,
        confirm_new_password: NEW_PASSWORD,
      }).toString(),
    }),
  );
const signsInWith = async (username: string, password: string) =>
  (
    await deployment.call(
      'token',
      form({ grant_type: 'password', client_id: 'mobile-app', username, password }, { sourceIp: freshIp() }),
    )
  ).statusCode === 200;

const resetRequest: Flow<{ address: string; ip: string; since: number }> = {
  name: 'password reset request (hourly limits, user, ticket, SES mail)',
  ok: 200,
  prepare: async () => ({ address: await freshAddress(), ip: freshIp(), since: deployment.ses.sent.length }),
  act: ({ address, ip }) => askReset(address, ip),
  async check({ address, ip, since }, response) {
    // Past the lookup, a failure (ticket, mail) is answered like a success: a 503 would tell the
    // address has an account. A link that was mailed works; asking again mails one that works.
    if (response.statusCode === 200) expect(response.body).toBe(RESET_SENTENCE);
    const mailed = mailedLink(address, since);
    if (mailed) expect((await resetPage(mailed)).statusCode).toBe(200);
    const before = deployment.ses.sent.length;
    expect((await askReset(address, ip)).statusCode).toBe(200);
    const link = mailedLink(address, before);
    expect(link).toBeDefined();
    expect((await resetPage(link as string)).statusCode).toBe(200);
  },
};

const resetSubmit: Flow<{ address: string; fields: Record<string, string>; refreshToken: string }> = {
  name: 'reset page submission (password write, ticket spend, blocks lifted, notice mail)',
  ok: 200,
  async prepare() {
    const address = await freshAddress();
    const refreshToken = body(await login(address)).refresh_token;
    const since = deployment.ses.sent.length;
    await askReset(address, freshIp());
    const page = await resetPage(mailedLink(address, since) as string);
    return { address, fields: hiddenFields(page.body), refreshToken };
  },
  act: ({ fields }) => submitReset(fields),
  async check({ address, fields, refreshToken }, response) {
    const changed = await signsInWith(address, NEW_PASSWORD);
    // One write sets the password: it is the old one or the new one, never anything between.
    expect(await signsInWith(address, PASSWORD)).toBe(!changed);
    if (response.statusCode === 200) expect(changed).toBe(true);
    if (changed) {
      // Set: the link is dead, even where spending its ticket failed; the old sessions too.
      expect((await submitReset(fields)).statusCode).toBe(410);
      expect((await refresh(refreshToken)).statusCode).toBe(400);
    } else {
      // Not set: the link still works, once.
      expect((await submitReset(fields)).statusCode).toBe(200);
      expect((await submitReset(fields)).statusCode).toBe(410);
      expect(await signsInWith(address, NEW_PASSWORD)).toBe(true);
    }
  },
};

const flows = [
  passwordLogin,
  wrongPassword,
  refreshGrant,
  revocation,
  introspection,
  userinfo,
  mfaAssociate,
  mfaOtp,
  dpopLogin,
  dpopUserinfo,
  accountDeletion,
  resetRequest,
  resetSubmit,
] as Flow<unknown>[];
const FAULTS: readonly Fault[] = ['throttle', 'internal', 'reset', 'lost'];

describe('every store and signer call failing in turn', () => {
  for (const flow of flows) {
    it(`${flow.name}: 503 temporarily_unavailable or the retry's success, never a 500, state sound`, async () => {
      // Warm first: what a warm Lambda caches per cold start (KMS public keys) is not a per-request call.
      await flow.act(await flow.prepare());
      const context = await flow.prepare();
      const calls = await deployment.countCalls(() => flow.act(context));
      expect(calls.size).toBeGreaterThan(0);
      for (const [operation, count] of calls) {
        for (let nth = 1; nth <= count; nth += 1) {
          for (const [fault, times] of FAULTS.flatMap((kind) => [1, 2].map((n) => [kind, n] as const))) {
            const ctx = await flow.prepare();
            const { result, fired } = await deployment.withFaults([{ operation, nth, times, fault }], () =>
              flow.act(ctx),
            );
            faultPoints += 1;
            const where = `${operation} #${nth} ${fault} ×${times}`;
            expect(fired, where).toBeGreaterThan(0);
            expect([flow.ok, 503], where).toContain(result.statusCode);
            if (times === 1) expect(result.statusCode, `${where}: one retry earns the success`).toBe(flow.ok);
            if (
              result.statusCode === 503 &&
              String(result.headers?.['Content-Type']).startsWith('text/html')
            ) {
              // A hosted page (the reset form) answers people with a page, apps' endpoints with JSON.
              expect(result.body, where).toContain('<h1>This page is temporarily unavailable</h1>');
              expect(result.headers?.['Retry-After'], where).toBe('1');
            } else if (result.statusCode === 503) {
              expect(body(result), where).toEqual({
                error: 'temporarily_unavailable',
                error_description: expect.any(String),
              });
            }
            await flow.check(ctx, result, fault).catch((error: Error) => {
              throw new Error(`${where}, then: ${error.message}`, { cause: error });
            });
          }
        }
      }
      // Eight faults at each call of a flow: the password grant alone injects over a hundred,
      // the MFA grant's dozen calls take minutes.
    }, 600_000);
  }
});

describe('a password reset meeting a failure after its password write', () => {
  it('the ticket spend failing for good: the password is set, and the unspent ticket is dead all the same', async () => {
    const context = await resetSubmit.prepare();
    const ticketValue = context.fields.ticket as string;
    const { ticketHash } = await import('../../functions/oauth/accounts/tickets.ts');
    // UpdateItem #1 is the password write; #2, spending the ticket, fails on every attempt.
    const { result, fired } = await deployment.withFaults(
      [{ operation: 'UpdateItem', nth: 2, times: 4, fault: 'internal' }],
      () => resetSubmit.act(context),
    );
    expect(fired).toBeGreaterThan(0);
    expect(result.statusCode).toBe(200);
    expect(await deployment.services.tickets.find(ticketHash(ticketValue), Date.now())).toBeDefined();
    expect((await submitReset(context.fields)).statusCode).toBe(410);
    expect(await signsInWith(context.address, NEW_PASSWORD)).toBe(true);
    expect(deployment.lines).toContainEqual(
      expect.objectContaining({ message: 'password reset follow-up failed', step: 'spend the ticket' }),
    );
  });

  it('SES failing: the request answers the same and logs it; the reset still sets the password without its notice', async () => {
    const address = await freshAddress();
    const since = deployment.ses.sent.length;
    const asked = await deployment.withFaults(
      [{ operation: 'SendEmail', nth: 1, times: 4, fault: 'internal' }],
      () => askReset(address, freshIp()),
    );
    expect([asked.result.statusCode, asked.result.body]).toEqual([200, RESET_SENTENCE]);
    expect(mailedLink(address, since)).toBeUndefined();
    expect(deployment.lines).toContainEqual(
      expect.objectContaining({
        type: 'fcpr',
        description: 'Password reset mail not sent: the mail could not be sent',
      }),
    );

    const context = await resetSubmit.prepare();
    const before = deployment.ses.sent.length;
    const { result } = await deployment.withFaults(
      [{ operation: 'SendEmail', nth: 1, times: 4, fault: 'throttle' }],
      () => resetSubmit.act(context),
    );
    expect(result.statusCode).toBe(200);
    expect(deployment.ses.sent.length).toBe(before);
    expect(await signsInWith(context.address, NEW_PASSWORD)).toBe(true);
  });
});

describe('a signing failure during a login', () => {
  it('answers 503 and leaves neither the refresh token family nor its token in the store', async () => {
    const username = await freshUser();
    const { result, fired } = await deployment.withFaults(
      // Every attempt of both signatures (access and ID token) fails.
      [{ operation: 'Sign', nth: 1, times: 4, fault: 'internal' }],
      () => login(username, 'openid offline_access read:orders', freshIp()),
    );
    faultPoints += 1;
    expect(fired).toBeGreaterThan(0);
    expect(result.statusCode).toBe(503);
    expect(body(result).error).toBe('temporarily_unavailable');
    expect(await sessionRecordsOf(username)).toEqual([]);
    expect(await loginsOf(username)).toBe(0);
  });
});

describe('a signing failure during a refresh', () => {
  it('answers 503 and undoes the rotation that landed beside it: the presented token works again', async () => {
    const token = body(await login(await freshUser())).refresh_token;
    const { result, fired } = await deployment.withFaults(
      [{ operation: 'Sign', nth: 1, times: 4, fault: 'internal' }],
      () => refresh(token),
    );
    faultPoints += 1;
    expect(fired).toBeGreaterThan(0);
    expect(result.statusCode).toBe(503);
    const retried = await refresh(token);
    expect(retried.statusCode).toBe(200);
    expect((await refresh(body(retried).refresh_token)).statusCode).toBe(200);
  });
});

describe('a dependency that hangs', () => {
  it('answers 503 well inside the Lambda timeout when DynamoDB or KMS stops answering', async () => {
    // The login's read before the password, its sign-in write after it, and signing beside that.
    for (const operation of ['BatchGetItem', 'TransactWriteItems', 'Sign']) {
      const username = await freshUser();
      const started = Date.now();
      const { result } = await deployment.withFaults([{ operation, nth: 1, times: 5, fault: 'hang' }], () =>
        login(username),
      );
      faultPoints += 1;
      expect(result.statusCode, operation).toBe(503);
      // 2 attempts × 1.5 s request timeout: far from the 10 s Lambda timeout.
      expect(Date.now() - started, operation).toBeLessThan(5_000);
      expect(await loginsOf(username)).toBe(0);
    }
  });

  it('logs every 503 with the failing dependency and the request id', () => {
    const unavailable = deployment.lines.filter((line) => line.message === 'dependency unavailable');
    expect(unavailable.length).toBeGreaterThan(0);
    for (const line of unavailable) {
      expect(line).toMatchObject({
        level: 'error',
        requestId: expect.any(String),
        dependency: expect.stringMatching(/^(dynamodb|kms)$/),
      });
    }
    expect(deployment.lines.filter((line) => line.message === 'unexpected error')).toEqual([]);
  });
});
