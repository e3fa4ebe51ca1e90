import type { Logger } from '../logging.ts';
import type { RequestInfo } from './services.ts';

/**
 * Authentication event types, modelled on Auth0's log event codes so operators can reuse their
 * queries and alerts: `s` success, `f` failed login (blocked user), `fp` wrong password, `fu`
 * unknown user, `limit_wc` user/IP blocked, `limit_mu` IP throttled, `sertft`/`fertft` refresh
 * exchange success/failure, `ferrt` refresh token reuse detected, `srrt` revocation, `fco` a
 * browser request from an origin the client does not allow; MFA: `mfar`
 * second factor required, `gd_start_enroll` / `gd_enrollment_complete` enrolment,
 * `gd_auth_succeed` / `gd_auth_failed` a code, `gd_recovery_succeed` / `gd_recovery_failed` a
 * recovery code, `gd_otp_rate_limit_exceed` too many wrong codes, `gd_unenroll` an operator reset;
 * accounts: `ss` / `fs` a sign-up that succeeded / failed, `sdu` a user deleted their own account
 * (a wrong password there is an `fp`, as at a login), `scpr` / `fcpr` a password reset mail sent /
 * not sent, `scp` / `fcp` a password set / not set by a reset link.
 */
export type AuditEventType =
  | 's'
  | 'f'
  | 'fp'
  | 'fu'
  | 'limit_wc'
  | 'limit_mu'
  | 'sertft'
  | 'fertft'
  | 'ferrt'
  | 'srrt'
  | 'fco'
  | 'mfar'
  | 'gd_start_enroll'
  | 'gd_enrollment_complete'
  | 'gd_auth_succeed'
  | 'gd_auth_failed'
  | 'gd_recovery_succeed'
  | 'gd_recovery_failed'
  | 'gd_otp_rate_limit_exceed'
  | 'gd_unenroll'
  | 'ss'
  | 'fs'
  | 'sdu'
  | 'scpr'
  | 'fcpr'
  | 'scp'
  | 'fcp';

export interface AuditEvent {
  readonly type: AuditEventType;
  readonly description: string;
  /** Absent on a hosted page's event: the reset page is opened from a mail, not by a client. */
  readonly client_id?: string;
  readonly realm?: string;
  readonly user_id?: string;
  /**
   * The client IP used for brute-force protection (the source IP, or a trusted forwarded one).
   * Absent from an event that keeps no personal data but the user id (an account's deletion):
   * then the user agent is left out too.
   */
  readonly ip?: string;
}

/**
 * One structured line per authentication event. Only these whitelisted fields are written: never
 * a username, password, token, secret or hash.
 */
export function audit(logger: Logger, info: RequestInfo, event: AuditEvent): void {
  // Reuse and limits are what an operator alarms on: they stand out as warnings.
  const level =
    event.type === 'ferrt' || event.type.startsWith('limit_') || event.type === 'gd_otp_rate_limit_exceed'
      ? 'warn'
      : 'info';
  logger.log(level, 'auth event', {
    audit: true,
    type: event.type,
    description: event.description,
    realm: event.realm,
    client_id: event.client_id,
    user_id: event.user_id,
    ...(event.ip === undefined ? {} : { ip: event.ip, user_agent: info.userAgent }),
    request_id: info.requestId,
  });
}

/** The events of one request: what they share is given once, then one call per event. */
export const requestAuditor =
  (logger: Logger, info: RequestInfo, shared: Omit<AuditEvent, 'type' | 'description' | 'user_id'>) =>
  (type: AuditEventType, description: string, user?: { readonly user_id: string }) =>
    audit(logger, info, { ...shared, type, description, user_id: user?.user_id });
