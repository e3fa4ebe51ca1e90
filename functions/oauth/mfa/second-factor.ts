import { randomUUID } from 'node:crypto';
import { allLanded } from '../all-landed.ts';
import type { AuditEventType } from '../audit.ts';
import { MfaRequiredError, OAuthError } from '../errors.ts';
import type { TokenRequest } from '../grants/grant.ts';
import type { MfaEnrolment, MfaUserState, UserRecord } from '../ports.ts';
import type { Services } from '../services.ts';
import { issueSignInTokens } from '../sessions/issue-tokens.ts';
import { refreshBinding } from '../sessions/refresh-tokens.ts';
import type { TokenResponse } from '../tokens.ts';
import { apiOfAudience } from './enroll-api.ts';
import { takeGuess } from './guesses.ts';
import { sealContext } from './mfa-api.ts';
import { issueMfaToken, presentedMfaToken, spendMfaToken } from './mfa-token.ts';
import { hashRecoveryCode, newRecoveryCode, recoveryCodeMatches } from './recovery-code.ts';
import { matchingStep } from './totp.ts';
import { challengedUser, mfaEvent } from './user-state.ts';

/**
 * The password was right but a second factor is needed: instead of tokens, an `mfa_token` for
 * this login. Whatever else the login writes after a right password (`alongside`: the brute-force
 * refund, a hash upgrade) lands with it, as it would with tokens.
 */
export async function requireSecondFactor(
  services: Services,
  login: Parameters<typeof issueMfaToken>[1],
  alongside: readonly Promise<unknown>[],
): Promise<MfaRequiredError> {
  const [mfaToken] = await allLanded([issueMfaToken(services, login), ...alongside]);
  return new MfaRequiredError(mfaToken);
}

/** How one MFA grant checks its factor; each kind is one conditional write once it matches. */
export interface SecondFactor {
  /** RFC 8176 methods the tokens will carry. */
  readonly amr: readonly string[];
  readonly failure: string;
  /** Its audit events (audit.ts). */
  readonly events: { readonly accepted: AuditEventType; readonly refused: AuditEventType };
  /** Whether the user must have confirmed the authenticator (a recovery code is no way to enrol). */
  readonly needsActive: boolean;
  /**
   * What the check needs from another service, fetched beside the guess being taken (one round
   * instead of two): the OTP secret, opened by KMS. It is only compared once the guess is taken.
   */
  prepare?(services: Services, state: FactorState): Promise<Uint8Array>;
  /** True, with any new recovery code, when the factor was right and is now spent. */
  check(
    services: Services,
    state: FactorState,
    params: TokenRequest['params'],
    /** Unique per request (MfaStore). */
    writer: string,
    /** What `prepare` fetched. */
    prepared?: Uint8Array,
  ): Promise<{ accepted: boolean; recoveryCode?: string }>;
}

/** The user and authenticator a factor is checked against, as the `mfa_token` names them. */
interface FactorState {
  readonly user: UserRecord;
  readonly enrolment: MfaEnrolment;
  readonly realm: string;
  readonly user_id: string;
}

/** RFC 6238 TOTP: right within ±1 step, and a step later than the last one accepted. */
export const otpFactor: SecondFactor = {
  amr: ['pwd', 'otp', 'mfa'],
  failure: 'Invalid otp_code.',
  events: { accepted: 'gd_auth_succeed', refused: 'gd_auth_failed' },
  needsActive: false,
  prepare: (services, state) =>
    services.sealer.open(state.enrolment.sealed_secret, sealContext(state, state.enrolment.authenticator_id)),
  async check(services, state, params, writer, secret) {
    if (!secret) throw new Error('the OTP factor is checked with the secret its prepare opened');
    const step = matchingStep(secret, params.otp as string, services.clock.now());
    if (step === undefined) return { accepted: false };
    return {
      accepted: await services.mfa.acceptCode(state.user, state.enrolment.authenticator_id, step, writer),
    };
  },
};

/** Auth0's recovery code: spent when used, and a new one handed out in the same write. */
export const recoveryCodeFactor: SecondFactor = {
  amr: ['pwd', 'mfa'],
  failure: 'Invalid recovery_code.',
  events: { accepted: 'gd_recovery_succeed', refused: 'gd_recovery_failed' },
  needsActive: true,
  async check(services, state, params) {
    const stored = state.enrolment.recovery_code_hash;
    if (!recoveryCodeMatches(params.recovery_code as string, stored)) return { accepted: false };
    const recoveryCode = newRecoveryCode();
    const replaced = await services.mfa.replaceRecoveryCode(
      state.user,
      stored,
      hashRecoveryCode(recoveryCode),
    );
    return replaced ? { accepted: true, recoveryCode } : { accepted: false };
  },
};

/**
 * The `mfa-otp` and `mfa-recovery-code` grants: the login an `mfa_token` stands for, finished with
 * a second factor. Every try takes a guess from the user's bucket first (guesses.ts), so 10 wrong
 * codes in a row, in parallel or not, leave the 11th refused with 429 unchecked. A right factor
 * spends the token and gets the answer the password grant would have given, with `amr` saying how.
 */
export async function secondFactorLogin(
  request: TokenRequest,
  services: Services,
  factor: SecondFactor,
): Promise<TokenResponse> {
  const { params, client, info } = request;
  const challenge = await presentedMfaToken(services, params.mfa_token, client.clientId);
  const state: MfaUserState = await challengedUser(services, challenge);
  const { user, enrolment } = state;
  const event = mfaEvent(services, info, challenge);
  const api = apiOfAudience(services.config, info.issuer, challenge.audience);
  if (!api || !client.realms.includes(challenge.realm)) {
    throw new OAuthError(403, 'invalid_grant', 'Invalid mfa_token.', 'the configuration changed since');
  }
  if (!enrolment || (factor.needsActive && !enrolment.active)) {
    throw new OAuthError(403, 'invalid_grant', 'User is not enrolled.', 'no authenticator for this factor');
  }
  const factorState = { user, enrolment, realm: challenge.realm, user_id: challenge.user_id };
  // Opened while the guess is taken; a refused guess then costs a KMS Decrypt it did not use.
  const prepared = factor.prepare?.(services, factorState);
  prepared?.catch(() => undefined); // awaited below once the guess is taken
  const guess = await takeGuess(services, user, state.guesses);
  if (!guess.taken) {
    event('gd_otp_rate_limit_exceed', 'Too many wrong MFA codes', user);
    throw new OAuthError(
      429,
      'too_many_attempts',
      'Too many invalid codes for this user; try again later.',
      undefined,
      { 'Retry-After': String(Math.max(1, guess.retryAfterSeconds)) },
    );
  }
  const writer = randomUUID();
  const { accepted, recoveryCode } = await factor.check(
    services,
    factorState,
    params,
    writer,
    await prepared,
  );
  if (!accepted) {
    event(factor.events.refused, 'Wrong or reused code', user);
    throw new OAuthError(403, 'invalid_grant', factor.failure);
  }
  const response = await issueSignInTokens(
    services,
    {
      issuer: info.issuer,
      client,
      api,
      user,
      scopes: challenge.scope,
      gty: challenge.gty,
      amr: factor.amr,
      // RFC 9449: the tokens are bound to the key of this request's proof, as the password grant's.
      jkt: info.dpop?.jkt,
      binding: refreshBinding(client, info),
    },
    {
      lastly: async () => {
        // Spent last, as the one write that lets the tokens leave: a failure before it leaves the
        // mfa_token for a retry with the next code, and of two right codes at once only one login
        // gets its tokens.
        if (!(await spendMfaToken(services, challenge.value, writer))) {
          throw new OAuthError(403, 'invalid_grant', 'Invalid mfa_token.', 'spent by a parallel request');
        }
      },
    },
  );
  if (!enrolment.active) event('gd_enrollment_complete', 'OTP authenticator confirmed', user);
  event(factor.events.accepted, 'Second factor accepted', user);
  event('s', 'Successful login', user);
  return recoveryCode === undefined ? response : { ...response, recovery_code: recoveryCode };
}
