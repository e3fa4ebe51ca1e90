import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_MFA_OTP, GRANT_PASSWORD, GRANT_REFRESH_TOKEN } from '../../functions/config/grant-types.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import { sealContext } from '../../functions/oauth/mfa/mfa-api.ts';
import { hashRecoveryCode, newRecoveryCode } from '../../functions/oauth/mfa/recovery-code.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { testConfig } from '../helpers/config.ts';
import { engineServices, openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { FixedClock, requestInfo } from '../helpers/memory-ports.ts';
import { RoundCounter } from '../helpers/round-counter.ts';

/**
 * The MFA grants' sequential rounds of store and KMS calls, pinned as critical-path.test.ts pins
 * the others': the MFA state lives on the user's item, so these run on a real engine. A change
 * that adds a sequential call fails here and must say why.
 */
let store: TestStore;
let keyDir: string;
let services: Services;
const counter = new RoundCounter();
const secret = new Uint8Array(randomBytes(20));
const clock = new FixedClock();
const client = { clientId: 'mobile-app', clientSecret: undefined, method: 'none' } as const;
const info = requestInfo({ requestId: 'mfa-rounds' });

beforeAll(async () => {
  store = await openTestStore();
  keyDir = mkdtempSync(join(tmpdir(), 'passgate-mfa-rounds-'));
  const base = testConfig();
  const config = parseConfig({
    ...base,
    realms: [{ name: 'customers', mfa: { policy: 'enrolled' } }, { name: 'employees' }],
    clients: base.clients.map((entry) =>
      entry.clientId === 'mobile-app'
        ? { ...entry, grantTypes: [GRANT_PASSWORD, GRANT_REFRESH_TOKEN, GRANT_MFA_OTP] }
        : entry,
    ),
  });
  const real = await engineServices(store, config, keyDir, clock);
  const user = await real.users.create({
    realm: 'customers',
    user_id: 'id-mallory',
    session_epoch: 0,
    username: 'mallory',
    username_key: 'mallory',
    email_verified: false,
    blocked: false,
    created_at: new Date(clock.now()).toISOString(),
    password_hash: 'plain:pw',
    permissions: {},
  });
  await real.mfa.enrol(user, {
    authenticator_id: 'dev_rounds',
    active: true,
    created_at: new Date(clock.now()).toISOString(),
    sealed_secret: await real.sealer.seal(secret, sealContext(user, 'dev_rounds')),
    last_step: 0,
    recovery_code_hash: hashRecoveryCode(newRecoveryCode()),
  });
  services = counter.wrapServices(real);
});
afterAll(async () => {
  await store?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

/** The grant's outcome, and its calls as `name@round`, sorted within each round. */
async function roundsOf(grant: () => Promise<unknown>) {
  counter.reset();
  const outcome = await grant().then(
    (response) => ({ response }),
    (error: unknown) => ({ error }),
  );
  return { outcome, rounds: counter.rounds, calls: [...counter.calls].sort((a, b) => a.localeCompare(b)) };
}

const passwordLogin = () =>
  handleTokenRequest(
    { grant_type: 'password', username: 'mallory', password: 'pw', scope: 'openid offline_access' },
    client,
    info,
    services,
  );

describe('sequential rounds of the MFA grants', () => {
  it("the password of an enrolled user: the login's first round, then the mfa_token beside the refund", async () => {
    const password = await roundsOf(passwordLogin);
    expect(password.outcome).toMatchObject({ error: { error: 'mfa_required' } });
    expect({ rounds: password.rounds, calls: password.calls }).toEqual({
      rounds: 2,
      calls: [
        'attempts.charge@1',
        'attempts.refund@2',
        'attempts.releaseIpDay@2',
        'attempts.reserveIpDay@1',
        'mfa.putChallenge@2',
        'users.findForLogin@1',
      ],
    });
  });

  it('the code (mfa-otp): token, user, guess beside the secret, the code, then the sign-in and signing, the token spent last', async () => {
    const challenged = await passwordLogin().catch((error: { mfaToken: string }) => error.mfaToken);
    const otp = TOTP.generate({
      secret: new Secret({ buffer: secret.buffer as ArrayBuffer }),
      timestamp: clock.now(),
    });
    const code = await roundsOf(() =>
      handleTokenRequest(
        { grant_type: GRANT_MFA_OTP, mfa_token: challenged as string, otp },
        client,
        info,
        services,
      ),
    );
    expect(code.outcome).toMatchObject({ response: { token_type: 'Bearer' } });
    expect({ rounds: code.rounds, calls: code.calls }).toEqual({
      rounds: 6,
      calls: [
        'mfa.acceptCode@4',
        'mfa.find@2',
        'mfa.findChallenge@1',
        'mfa.spendChallenge@6',
        'mfa.updateGuesses@3',
        'sealer.open@3',
        'signer.sign@5',
        'signer.sign@5',
        'signIns.record@5',
      ],
    });
  });
});
