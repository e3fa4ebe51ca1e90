import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRANT_MFA_OTP,
  GRANT_MFA_RECOVERY_CODE,
  GRANT_PASSWORD,
  GRANT_PASSWORD_REALM,
  GRANT_REFRESH_TOKEN,
} from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import type { Logger } from '../../functions/logging.ts';
import { runCli } from '../helpers/cli.ts';
import { testConfig } from '../helpers/config.ts';
import { dpopKey, dpopProof } from '../helpers/dpop.ts';
import { json as readJson } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';
const MFA_GRANTS = [GRANT_MFA_OTP, GRANT_MFA_RECOVERY_CODE] as const;

/** One realm per policy; the apps may use the MFA grants; the mobile app's users may delete their accounts. */
function mfaConfig(policy: 'off' | 'enrolled' | 'required'): TenantConfigInput {
  const base = testConfig();
  return {
    ...base,
    realms: [{ name: 'customers', mfa: { policy } }, { name: 'employees' }],
    clients: [
      {
        clientId: 'mobile-app',
        name: 'Mobile app',
        grantTypes: [GRANT_PASSWORD, GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN, ...MFA_GRANTS],
        realms: ['customers'],
        allowAccountDeletion: true,
      },
      {
        clientId: 'other-app',
        name: 'Other app',
        grantTypes: [GRANT_PASSWORD, ...MFA_GRANTS],
        realms: ['customers'],
      },
      ...(base.clients ?? []).filter((client) => client.clientId === 'backoffice'),
    ],
  };
}

/**
 * RFC 6238 codes from Debian's oathtool: an implementation independent of the server's (otpauth),
 * at the server's clock.
 */
const oathtool = (base32: string, atMs: number) =>
  execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(atMs / 1000)}`, base32], {
    encoding: 'utf8',
  }).trim();

let now = Date.parse('2026-12-06T12:00:10Z');
const clock = { now: () => now };
/** The next RFC 6238 step: a code no earlier login has used. */
const nextStep = () => {
  now += 30_000;
};
const lines: Record<string, unknown>[] = [];
const logger: Logger = { log: (level, message, fields) => lines.push({ level, message, ...fields }) };

let server: TestServer;
let issuer: string;
let sequence = 0;

beforeAll(async () => {
  server = await startTestServer({ config: mfaConfig('required'), clock, logger });
  issuer = server.issuer;
});
afterAll(async () => {
  await server.stop();
});

const json = async (response: Response) => ({ status: response.status, body: await readJson(response) });
const token = async (params: Record<string, string>) => json(await server.token(params));
const login = (username: string, scope = 'openid offline_access read:orders', clientId = 'mobile-app') =>
  token({ grant_type: 'password', client_id: clientId, username, password: PASSWORD, scope });
const mfaApi = async (path: string, mfaToken: string, body?: unknown) =>
  json(
    await fetch(`${issuer}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${mfaToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
const otpGrant = (mfaToken: string, otp: string, clientId = 'mobile-app') =>
  token({ grant_type: GRANT_MFA_OTP, client_id: clientId, mfa_token: mfaToken, otp });

async function newUser(): Promise<string> {
  const username = `mfa-user-${sequence++}@example.com`;
  await addUser(server, { username, password: PASSWORD });
  return username;
}

/** Password, mfa_required, associate, first code: an enrolled user and their secret and recovery code. */
async function enrolledUser() {
  const username = await newUser();
  const first = await login(username);
  const associated = await mfaApi('mfa/associate', first.body.mfa_token, { authenticator_types: ['otp'] });
  const confirmed = await otpGrant(first.body.mfa_token, oathtool(associated.body.secret, now));
  expect(confirmed.status).toBe(200);
  nextStep();
  return { username, secret: associated.body.secret as string, recovery: associated.body.recovery_codes[0] };
}

describe('MFA with policy "required"', () => {
  it('answers a right password with mfa_required, and a code from the enrolled app with tokens', async () => {
    const username = await newUser();
    const first = await login(username);
    expect(first.status).toBe(403);
    expect(first.body).toEqual({
      error: 'mfa_required',
      error_description: 'Multifactor authentication required',
      mfa_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const mfaToken = first.body.mfa_token as string;
    expect((await mfaApi('mfa/authenticators', mfaToken)).body).toEqual([]);

    const associated = await mfaApi('mfa/associate', mfaToken, { authenticator_types: ['otp'] });
    expect(associated.status).toBe(200);
    expect(associated.body).toEqual({
      authenticator_type: 'otp',
      secret: expect.stringMatching(/^[A-Z2-7]{32}$/), // 160 bits in base32
      barcode_uri: expect.stringMatching(/^otpauth:\/\/totp\/localhost:mfa-user-\d+%40example\.com\?/),
      recovery_codes: [expect.stringMatching(/^[A-Z2-9]{24}$/)],
    });
    const uri = new URL(associated.body.barcode_uri);
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      issuer: 'localhost',
      secret: associated.body.secret,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
    const listed = await mfaApi('mfa/authenticators', mfaToken);
    expect(listed.body).toEqual([
      { id: expect.stringMatching(/^totp\|dev_/), authenticator_type: 'otp', active: false },
      {
        id: expect.stringMatching(/^recovery-code\|dev_/),
        authenticator_type: 'recovery-code',
        active: false,
      },
    ]);
    const challenged = await json(
      await fetch(`${issuer}mfa/challenge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'mobile-app', mfa_token: mfaToken, challenge_type: 'otp' }),
      }),
    );
    expect(challenged).toEqual({ status: 200, body: { challenge_type: 'otp' } });

    const code = oathtool(associated.body.secret, now);
    const granted = await otpGrant(mfaToken, code);
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ token_type: 'Bearer', scope: 'openid offline_access read:orders' });
    const claims = decodeJwt(granted.body.access_token);
    expect(claims).toMatchObject({
      gty: 'password',
      amr: ['pwd', 'otp', 'mfa'],
      sub: expect.stringMatching(/^customers\|/),
    });
    expect(decodeJwt(granted.body.id_token).amr).toEqual(['pwd', 'otp', 'mfa']);

    // The mfa_token is spent; the same code again is refused (RFC 6238 §5.2).
    expect((await otpGrant(mfaToken, code)).body.error).toBe('invalid_grant');
    const again = await login(username);
    const replay = await otpGrant(again.body.mfa_token, code);
    expect(replay).toEqual({
      status: 403,
      body: { error: 'invalid_grant', error_description: 'Invalid otp_code.' },
    });

    // Enrolled now: listed active, and associating again is refused.
    expect((await mfaApi('mfa/authenticators', again.body.mfa_token)).body[0].active).toBe(true);
    expect(await mfaApi('mfa/associate', again.body.mfa_token, { authenticator_types: ['otp'] })).toEqual({
      status: 400,
      body: { error: 'access_denied', error_description: 'User is already enrolled.' },
    });

    // The refresh grant asks for nothing more, and keeps amr.
    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: granted.body.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token).amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('accepts one of two parallel submissions of one code', async () => {
    const { username, secret } = await enrolledUser();
    const [a, b] = await Promise.all([login(username), login(username)]);
    const code = oathtool(secret, now);
    const results = await Promise.all([otpGrant(a.body.mfa_token, code), otpGrant(b.body.mfa_token, code)]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 403]);
    nextStep();
  });

  it('binds the tokens of an mfa-otp grant to the DPoP key of its proof', async () => {
    const { username, secret } = await enrolledUser();
    const challenge = await login(username);
    const key = await dpopKey();
    const proof = await dpopProof(key, {
      htm: 'POST',
      htu: `${issuer}oauth/token`,
      iat: Math.floor(now / 1000),
    });
    const granted = await json(
      await server.token(
        {
          grant_type: GRANT_MFA_OTP,
          client_id: 'mobile-app',
          mfa_token: challenge.body.mfa_token,
          otp: oathtool(secret, now),
        },
        { DPoP: proof },
      ),
    );
    expect(granted.status).toBe(200);
    expect(granted.body.token_type).toBe('DPoP');
    expect(decodeJwt(granted.body.access_token).cnf).toEqual({ jkt: key.jkt });
    // RFC 9449 §5: the public client's refresh token is bound too: a refresh without a proof fails.
    const unproven = await token({
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: granted.body.refresh_token,
    });
    expect(unproven.status).toBe(400);
    nextStep();
  });

  it('takes a recovery code once and hands out the next one', async () => {
    const { username, recovery } = await enrolledUser();
    const first = await login(username);
    const recovered = await token({
      grant_type: GRANT_MFA_RECOVERY_CODE,
      client_id: 'mobile-app',
      mfa_token: first.body.mfa_token,
      recovery_code: recovery,
    });
    expect(recovered.status).toBe(200);
    expect(recovered.body.recovery_code).toMatch(/^[A-Z2-9]{24}$/);
    expect(recovered.body.recovery_code).not.toBe(recovery);
    expect(decodeJwt(recovered.body.access_token).amr).toEqual(['pwd', 'mfa']);

    const second = await login(username);
    const reused = await token({
      grant_type: GRANT_MFA_RECOVERY_CODE,
      client_id: 'mobile-app',
      mfa_token: second.body.mfa_token,
      recovery_code: recovery,
    });
    expect(reused).toEqual({
      status: 403,
      body: { error: 'invalid_grant', error_description: 'Invalid recovery_code.' },
    });
    const next = await token({
      grant_type: GRANT_MFA_RECOVERY_CODE,
      client_id: 'mobile-app',
      mfa_token: second.body.mfa_token,
      recovery_code: recovered.body.recovery_code,
    });
    expect(next.status).toBe(200);
  });

  it('refuses the 11th wrong code with 429, even a right one, and a right password does not reset it', async () => {
    const { username, secret } = await enrolledUser();
    const first = await login(username);
    const wrong = await Promise.all(
      Array.from({ length: 10 }, (_, i) => otpGrant(first.body.mfa_token, String(100000 + i))),
    );
    expect(wrong.map((result) => result.status)).toEqual(Array(10).fill(403));
    const eleventh = await otpGrant(first.body.mfa_token, oathtool(secret, now));
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.error).toBe('too_many_attempts');
    const relogin = await login(username);
    expect(relogin.status).toBe(403); // the password is still right: mfa_required
    expect((await otpGrant(relogin.body.mfa_token, oathtool(secret, now))).status).toBe(429);
    expect(lines.some((line) => line.type === 'gd_otp_rate_limit_exceed' && line.level === 'warn')).toBe(
      true,
    );
    // One guess comes back every 6 minutes (Auth0's bucket).
    now += 6 * 60_000;
    expect((await otpGrant(relogin.body.mfa_token, oathtool(secret, now))).status).toBe(200);
    nextStep();
  });

  it("refuses another client's mfa_token, and never takes an mfa_token as an access token", async () => {
    const { username, secret } = await enrolledUser();
    const first = await login(username);
    const mfaToken = first.body.mfa_token as string;
    expect(await otpGrant(mfaToken, oathtool(secret, now), 'other-app')).toEqual({
      status: 403,
      body: { error: 'invalid_grant', error_description: 'Invalid mfa_token.' },
    });
    const userinfo = await fetch(`${issuer}userinfo`, { headers: { authorization: `Bearer ${mfaToken}` } });
    expect(userinfo.status).toBe(401);
    const introspected = await json(
      await fetch(`${issuer}oauth/introspect`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('backoffice:backoffice-test-secret-0123456789abcdefghijklmnop').toString('base64')}`,
        },
        body: new URLSearchParams({ token: mfaToken }),
      }),
    );
    expect(introspected.body).toEqual({ active: false });
    // The token is still good for its own client.
    expect((await otpGrant(mfaToken, oathtool(secret, now))).status).toBe(200);
    nextStep();
  });

  it("refuses a browser origin the mfa_token's client does not allow, before answering", async () => {
    const username = await newUser();
    const { body } = await login(username);
    const foreign = await fetch(`${issuer}mfa/authenticators`, {
      headers: { authorization: `Bearer ${body.mfa_token}`, origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(await readJson(foreign)).toEqual({
      error: 'invalid_request',
      error_description: 'Origin not allowed for this client.',
    });
    expect((await mfaApi('mfa/authenticators', body.mfa_token)).status).toBe(200);
  });

  it('advertises the MFA grants in the discovery document', async () => {
    const discovery = await json(await fetch(`${issuer}.well-known/openid-configuration`));
    expect(discovery.body.grant_types_supported).toEqual(expect.arrayContaining([...MFA_GRANTS]));
  });

  it('asks for the password first: a wrong one never reveals mfa_required', async () => {
    const { username } = await enrolledUser();
    const wrong = await token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username,
      password: 'wrong password!',
    });
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
  });
});

/** An enrolled user signed in with both factors, and the `mfa_token` of a later login left pending. */
async function signedInWithBothFactors() {
  const { username, secret } = await enrolledUser();
  const first = await login(username);
  const session = await otpGrant(first.body.mfa_token, oathtool(secret, now));
  expect(session.status).toBe(200);
  nextStep();
  const pending = await login(username);
  return {
    username,
    secret,
    accessToken: session.body.access_token as string,
    refreshToken: session.body.refresh_token as string,
    pendingMfaToken: pending.body.mfa_token as string,
  };
}

/** Deleted, then a new user under the same name: they start with no authenticator and no session. */
async function expectStartedOver(before: Awaited<ReturnType<typeof signedInWithBothFactors>>) {
  const refreshed = await token({
    grant_type: 'refresh_token',
    client_id: 'mobile-app',
    refresh_token: before.refreshToken,
  });
  expect(refreshed.body.error).toBe('invalid_grant');
  const code = oathtool(before.secret, now);
  expect((await otpGrant(before.pendingMfaToken, code)).body.error).toBe('invalid_grant');
  expect((await login(before.username)).status).toBe(400);
  await addUser(server, { username: before.username, password: PASSWORD });
  const again = await login(before.username);
  expect(again.body.error).toBe('mfa_required');
  expect((await mfaApi('mfa/authenticators', again.body.mfa_token)).body).toEqual([]);
  expect((await otpGrant(again.body.mfa_token, code)).body.error).toBe('invalid_grant');
}

describe('deleting an account', () => {
  it('from the app, after the second factor: the user goes with their authenticators and sessions', async () => {
    const signedIn = await signedInWithBothFactors();
    const deleted = await fetch(`${issuer}account/delete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${signedIn.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    expect(deleted.status).toBe(204);
    await expectStartedOver(signedIn);
  });
});

describe('operator CLI', () => {
  const cli = (...args: string[]) =>
    runCli([...args, '--json'], {
      env: { PASSGATE_DATA_DIR: server.dataDir, PASSGATE_CONFIG: server.configPath },
    });

  it('lists the authenticators, shows MFA in users get, and a reset ends the sessions and lets the user enrol again', async () => {
    const { username, secret } = await enrolledUser();
    const first = await login(username);
    const session = await otpGrant(first.body.mfa_token, oathtool(secret, now));
    expect(session.status).toBe(200);
    nextStep();
    const user = ['--realm', 'customers', '--username', username];

    const listed = await cli('users', 'mfa', 'list', ...user);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({
      user_id: expect.any(String),
      mfa_active: true,
      authenticators: [
        { id: expect.stringMatching(/^totp\|dev_/), authenticator_type: 'otp', active: true },
        {
          id: expect.stringMatching(/^recovery-code\|dev_/),
          authenticator_type: 'recovery-code',
          active: true,
        },
      ],
    });
    expect(JSON.parse((await cli('users', 'get', ...user)).stdout).mfa_active).toBe(true);
    const pending = await login(username); // an mfa_token from before the reset

    const reset = await cli('users', 'mfa', 'reset', ...user);
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout).mfa_active).toBe(false);
    expect(JSON.parse((await cli('users', 'mfa', 'list', ...user)).stdout).authenticators).toEqual([]);
    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: session.body.refresh_token,
    });
    expect(refreshed.body.error).toBe('invalid_grant');
    expect((await otpGrant(pending.body.mfa_token, oathtool(secret, now))).body.error).toBe('invalid_grant');

    // Policy "required": the next login enrols a new authenticator.
    const again = await login(username);
    const associated = await mfaApi('mfa/associate', again.body.mfa_token, { authenticator_types: ['otp'] });
    expect(associated.status).toBe(200);
    expect(associated.body.secret).not.toBe(secret);
  });

  it('users delete removes the user with their authenticators and sessions, as the app can', async () => {
    const signedIn = await signedInWithBothFactors();
    const deleted = await cli('users', 'delete', '--realm', 'customers', '--username', signedIn.username);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout).username).toBe(signedIn.username);
    await expectStartedOver(signedIn);
  });

  it('refuses an unknown user with a message and a non-zero status', async () => {
    const result = await runCli(
      ['users', 'mfa', 'reset', '--realm', 'customers', '--username', 'nobody@example.com'],
      {
        env: { PASSGATE_DATA_DIR: server.dataDir, PASSGATE_CONFIG: server.configPath },
      },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nobody@example\.com/);
  });
});

describe('MFA policies "enrolled" and "off"', () => {
  let restarted: LocalServer;
  let enrolled: string;
  let plain: string;
  let selfEnrolling: string;
  let secret: string;

  async function restartWith(policy: 'enrolled' | 'off') {
    await (restarted ?? server).close();
    writeFileSync(server.configPath, JSON.stringify(mfaConfig(policy)));
    restarted = await startLocalServer({
      port: 0,
      configPath: server.configPath,
      dataDir: server.dataDir,
      logger,
      clock,
    });
  }
  const post = async (target: LocalServer, params: Record<string, string>) =>
    json(
      await fetch(`${target.issuer}oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: 'mobile-app', ...params }),
      }),
    );
  const loginAt = (target: LocalServer, username: string, extra: Record<string, string> = {}) =>
    post(target, { grant_type: 'password', username, password: PASSWORD, ...extra });
  const bearerAt = async (target: LocalServer, path: string, accessToken: string, body?: unknown) =>
    json(
      await fetch(`${target.issuer}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );

  beforeAll(async () => {
    ({ username: enrolled, secret } = await enrolledUser());
    plain = await newUser();
    selfEnrolling = await newUser();
  });
  afterAll(async () => {
    await restarted?.close();
    rmSync(server.dataDir, { recursive: true, force: true });
    // afterAll of the file stops `server`, closed already: give it a fresh one to stop.
    server = await startTestServer({ config: mfaConfig('required'), clock, logger });
  });

  it('"enrolled": a user with an authenticator must use it, one without gets tokens after the password', async () => {
    await restartWith('enrolled');
    const withMfa = await loginAt(restarted, enrolled);
    expect(withMfa.status).toBe(403);
    expect(withMfa.body.error).toBe('mfa_required');
    const withoutMfa = await loginAt(restarted, plain);
    expect(withoutMfa.status).toBe(200);
    expect(decodeJwt(withoutMfa.body.access_token).amr).toEqual(['pwd']);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  });

  it('"enrolled": a user enrols from the app with an enroll token, and the next login confirms the authenticator', async () => {
    const mfaAudience = `${restarted.issuer}mfa/`;
    const enroll = await loginAt(restarted, selfEnrolling, { audience: mfaAudience, scope: 'enroll' });
    expect(enroll.status).toBe(200);
    expect(enroll.body.scope).toBe('enroll');
    expect(enroll.body.refresh_token).toBeUndefined();
    const accessToken = enroll.body.access_token as string;
    expect(decodeJwt(accessToken)).toMatchObject({ aud: mfaAudience, scope: 'enroll', amr: ['pwd'] });
    // The MFA API's token opens the MFA API only: not userinfo, never as an mfa_token.
    expect((await bearerAt(restarted, 'userinfo', accessToken)).status).toBe(401);
    const asMfaToken = await post(restarted, {
      grant_type: GRANT_MFA_OTP,
      mfa_token: accessToken,
      otp: '123456',
    });
    expect(asMfaToken.status).toBe(403);
    expect(asMfaToken.body.error).toBe('invalid_grant');
    expect(await bearerAt(restarted, 'mfa/authenticators', accessToken)).toEqual({ status: 200, body: [] });

    const associated = await bearerAt(restarted, 'mfa/associate', accessToken, {
      authenticator_types: ['otp'],
    });
    expect(associated.status).toBe(200);
    expect(associated.body.barcode_uri).toMatch(/^otpauth:\/\/totp\//);
    const listed = await bearerAt(restarted, 'mfa/authenticators', accessToken);
    expect(listed.body.map((entry: { active: boolean }) => entry.active)).toEqual([false, false]);

    // Auth0's way: the next login asks for the code, whose first success confirms the authenticator.
    nextStep();
    const next = await loginAt(restarted, selfEnrolling, { scope: 'openid' });
    expect(next.status).toBe(403);
    expect(next.body.error).toBe('mfa_required');
    const confirmed = await post(restarted, {
      grant_type: GRANT_MFA_OTP,
      mfa_token: next.body.mfa_token,
      otp: oathtool(associated.body.secret, now),
    });
    expect(confirmed.status).toBe(200);
    expect(decodeJwt(confirmed.body.access_token).amr).toEqual(['pwd', 'otp', 'mfa']);
    const active = await bearerAt(restarted, 'mfa/authenticators', accessToken);
    expect(active.body.map((entry: { active: boolean }) => entry.active)).toEqual([true, true]);
    expect(await bearerAt(restarted, 'mfa/associate', accessToken, { authenticator_types: ['otp'] })).toEqual(
      {
        status: 400,
        body: { error: 'access_denied', error_description: 'User is already enrolled.' },
      },
    );
    nextStep();
  });

  it('"off": the password alone, even for an enrolled user', async () => {
    await restartWith('off');
    const response = await loginAt(restarted, enrolled);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token).amr).toEqual(['pwd']);
  });
});
