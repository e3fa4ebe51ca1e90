import { randomBytes } from 'node:crypto';
import { GRANT_MFA_OTP } from '../../config/grant-types.ts';
import { bearerToken } from '../bearer.ts';
import { authenticateClient, type PresentedCredentials } from '../client-auth.ts';
import { invalidRequest, OAuthError, unauthorizedClient } from '../errors.ts';
import { usernameKey } from '../passwords/normalize.ts';
import type { MfaChallenge, MfaEnrolment, MfaUserState } from '../ports.ts';
import type { RequestInfo, Services } from '../services.ts';
import { verifyAccessToken } from '../sessions/access-tokens.ts';
import { ENROLL_SCOPE, mfaAudience } from './enroll-api.ts';
import { presentedMfaToken } from './mfa-token.ts';
import { hashRecoveryCode, newRecoveryCode } from './recovery-code.ts';
import { barcodeUri, base32Secret, newTotpSecret } from './totp.ts';
import { challengedUser, mfaEvent } from './user-state.ts';

/** One entry of `GET mfa/authenticators`, in Auth0's shape. */
export interface Authenticator {
  readonly id: string;
  readonly authenticator_type: 'otp' | 'recovery-code';
  readonly active: boolean;
}

/**
 * Refuses a request the client of the `mfa_token` may not make from where it came (a browser
 * origin the client does not allow): the client is known only once the opaque token is read.
 */
export type AdmitClient = (clientId: string) => void;

/** Whose authenticators a request of the MFA API manages, and for which client. */
type MfaSubject = Pick<MfaChallenge, 'client_id' | 'realm' | 'user_id'>;

const bearerRequired = (description: string, detail?: string) =>
  new OAuthError(401, 'invalid_token', description, detail, {
    'WWW-Authenticate': 'Bearer realm="passgate", error="invalid_token"',
  });

/** A JWS compact serialisation (RFC 7515 §7.1): an access token, never an opaque `mfa_token`. */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * RFC 6750 §3.1: the MFA API takes a bearer token: the `mfa_token` of a login waiting for its
 * second factor or, where `enrollToken` allows (associate, authenticators), Auth0's access token
 * for the audience `<issuer>mfa/` with the scope `enroll`. Each is only what it is: an access token
 * is never looked up as an `mfa_token`, and an `mfa_token` never verifies as an access token.
 */
async function presentedSubject(
  services: Services,
  info: RequestInfo,
  authorization: string | undefined,
  admit: AdmitClient,
  clientId?: string,
): Promise<{ subject: MfaSubject; state: MfaUserState }> {
  const token = bearerToken(authorization);
  if (token === undefined)
    throw bearerRequired('An mfa_token or an enroll access token is required as the bearer token.');
  if (JWT.test(token)) {
    const claims = await verifyAccessToken(services, info.issuer, token, [mfaAudience(info.issuer)]);
    if (!claims?.scope.split(' ').includes(ENROLL_SCOPE)) {
      throw bearerRequired('The access token is invalid or expired.', 'not an enroll token of the MFA API');
    }
    // RFC 9449 §7.1: a token bound to a DPoP key is never accepted as a bearer token.
    if (claims.cnf !== undefined)
      throw bearerRequired('The access token is invalid or expired.', 'DPoP-bound');
    admit(claims.client_id);
    return {
      subject: { client_id: claims.client_id, ...subjectOf(claims.sub) },
      state: await enrollingUser(services, claims.sub),
    };
  }
  const challenge = await presentedMfaToken(services, token, clientId);
  admit(challenge.client_id);
  return { subject: challenge, state: await challengedUser(services, challenge) };
}

const subjectOf = (sub: string) => {
  const separator = sub.indexOf('|');
  return { realm: sub.slice(0, separator), user_id: sub.slice(separator + 1) };
};

/** The user an enroll access token was issued to, still there and not blocked. */
async function enrollingUser(services: Services, sub: string): Promise<MfaUserState> {
  const { realm, user_id } = subjectOf(sub);
  const user = services.config.realms.some((candidate) => candidate.name === realm)
    ? await services.users.findById(realm, user_id)
    : undefined;
  const state =
    user && !user.blocked ? await services.mfa.find(realm, usernameKey(user.username)) : undefined;
  if (!state || state.user.user_id !== user_id || state.user.blocked) {
    throw bearerRequired(
      'The access token is invalid or expired.',
      'the user no longer exists or is blocked',
    );
  }
  return state;
}

/** The seal's context: a sealed secret opens only for its own user and authenticator. */
export const sealContext = (challenge: Pick<MfaChallenge, 'realm' | 'user_id'>, authenticatorId: string) => ({
  realm: challenge.realm,
  user_id: challenge.user_id,
  authenticator_id: authenticatorId,
});

/** `GET mfa/authenticators`: the user's OTP authenticator and recovery code, active or not yet. */
export async function listAuthenticators(
  authorization: string | undefined,
  info: RequestInfo,
  services: Services,
  admit: AdmitClient,
): Promise<Authenticator[]> {
  const { state } = await presentedSubject(services, info, authorization, admit);
  return authenticatorsOf(state.enrolment);
}

/** An enrolment as Auth0 lists it: the OTP authenticator and its recovery code. */
export function authenticatorsOf(enrolment: MfaEnrolment | undefined): Authenticator[] {
  if (!enrolment) return [];
  const { authenticator_id: id, active } = enrolment;
  return [
    { id: `totp|${id}`, authenticator_type: 'otp', active },
    { id: `recovery-code|${id}`, authenticator_type: 'recovery-code', active },
  ];
}

/**
 * `POST mfa/associate`: a new TOTP secret and recovery code for a user with no active
 * authenticator. The secret is sealed before anything is written and the enrolment is written in
 * one conditional write, pending until its first code is accepted (second-factor.ts); a user who
 * is enrolled already keeps the authenticator they have.
 */
export async function associate(
  authorization: string | undefined,
  params: Readonly<Record<string, string | undefined>>,
  info: RequestInfo,
  services: Services,
  admit: AdmitClient,
): Promise<{
  authenticator_type: 'otp';
  secret: string;
  barcode_uri: string;
  recovery_codes: string[];
}> {
  const types = (params.authenticator_types ?? '').split(' ').filter(Boolean);
  if (types.length !== 1 || types[0] !== 'otp') {
    throw invalidRequest('authenticator_types must be ["otp"]: passgate offers one-time passwords only.');
  }
  const { subject, state } = await presentedSubject(services, info, authorization, admit, params.client_id);
  const { user, enrolment } = state;
  const alreadyEnrolled = () => new OAuthError(400, 'access_denied', 'User is already enrolled.');
  if (enrolment?.active) throw alreadyEnrolled();
  const authenticatorId = `dev_${randomBytes(12).toString('base64url')}`;
  const secret = newTotpSecret();
  const recoveryCode = newRecoveryCode();
  const sealed = await services.sealer.seal(secret, sealContext(subject, authenticatorId));
  const written = await services.mfa.enrol(user, {
    authenticator_id: authenticatorId,
    active: false,
    created_at: new Date(services.clock.now()).toISOString(),
    sealed_secret: sealed,
    last_step: 0,
    recovery_code_hash: hashRecoveryCode(recoveryCode),
  });
  if (!written) throw alreadyEnrolled();
  mfaEvent(services, info, subject)('gd_start_enroll', 'OTP authenticator associated', user);
  return {
    authenticator_type: 'otp',
    secret: base32Secret(secret),
    barcode_uri: barcodeUri(secret, new URL(info.issuer).hostname, user.username),
    recovery_codes: [recoveryCode],
  };
}

/**
 * `POST mfa/challenge`: the client (authenticated like at the token endpoint) asks which challenge
 * to answer; for an OTP authenticator there is nothing to send, the app asks the user for a code.
 */
export async function challenge(
  params: Readonly<Record<string, string | undefined>>,
  credentials: PresentedCredentials,
  services: Services,
): Promise<{ challenge_type: 'otp' }> {
  const client = authenticateClient(services.config, credentials);
  if (!(client.grantTypes as readonly string[]).includes(GRANT_MFA_OTP)) {
    throw unauthorizedClient(
      'The client is not allowed to use the mfa-otp grant.',
      `client ${client.clientId}`,
    );
  }
  const mfaChallenge = await presentedMfaToken(services, params.mfa_token, client.clientId);
  const types = (params.challenge_type ?? 'otp').split(' ');
  const { enrolment } = await challengedUser(services, mfaChallenge);
  if (!types.includes('otp') || !enrolment) {
    throw new OAuthError(
      400,
      'unsupported_challenge_type',
      'The user has no authenticator for this challenge type; associate one first.',
    );
  }
  return { challenge_type: 'otp' };
}
