import { type AuditEventType, audit } from '../audit.ts';
import { OAuthError } from '../errors.ts';
import type { MfaChallenge, MfaUserState, UserRecord } from '../ports.ts';
import type { RequestInfo, Services } from '../services.ts';

/**
 * The user behind a live `mfa_token`, read strongly consistent with the MFA state. The token dies
 * with anything that ends the user's sessions (a new password, a block, an MFA reset: the epoch
 * moves) and with the user; a blocked user learns it only because the password was right.
 */
export async function challengedUser(
  services: Pick<Services, 'mfa'>,
  challenge: MfaChallenge,
): Promise<MfaUserState> {
  const state = await services.mfa.find(challenge.realm, challenge.username_key);
  if (
    !state ||
    state.user.user_id !== challenge.user_id ||
    (state.user.session_epoch ?? 0) !== challenge.session_epoch
  ) {
    throw new OAuthError(403, 'invalid_grant', 'Invalid mfa_token.', "the user's sessions ended since");
  }
  if (state.user.blocked) throw new OAuthError(403, 'access_denied', 'user is blocked');
  return state;
}

/** The audit event of an MFA step, for the client and user of its challenge (audit.ts). */
export const mfaEvent =
  (
    services: Pick<Services, 'logger'>,
    info: RequestInfo,
    challenge: Pick<MfaChallenge, 'client_id' | 'realm' | 'user_id'>,
  ) =>
  (type: AuditEventType, description: string, user?: UserRecord) =>
    audit(services.logger, info, {
      type,
      description,
      client_id: challenge.client_id,
      realm: challenge.realm,
      user_id: user?.user_id ?? challenge.user_id,
      ip: info.sourceIp,
    });
