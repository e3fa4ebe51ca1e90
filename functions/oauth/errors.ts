/**
 * RFC 6749 §5.2 error codes, RFC 6750 §3.1 bearer codes, RFC 7009 §2.2.1 `unsupported_token_type`,
 * RFC 9449 §5 and §8 DPoP codes, plus the codes Auth0 clients already handle (`too_many_attempts`,
 * `access_denied`, and the MFA flow's `mfa_required`, `expired_token`, `unsupported_challenge_type`)
 * and `temporarily_unavailable` for dependency failures.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'access_denied'
  | 'too_many_attempts'
  | 'mfa_required'
  | 'expired_token'
  | 'unsupported_challenge_type'
  | 'temporarily_unavailable'
  | 'server_error';

/**
 * The one error type the protocol layer throws. `description` is sent to the client;
 * `detail` is for the operator's log only and never leaves the server.
 */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly detail?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${error}: ${description}${detail ? ` (${detail})` : ''}`);
    this.name = 'OAuthError';
  }
}

/**
 * Auth0's answer to a right password that needs a second factor: 403 with the `mfa_token` that
 * the MFA API and grants take (docs/mfa.md).
 */
export class MfaRequiredError extends OAuthError {
  constructor(readonly mfaToken: string) {
    super(403, 'mfa_required', 'Multifactor authentication required');
    this.name = 'MfaRequiredError';
  }
}

/**
 * One message for unknown user, wrong password and blocked-with-wrong-password (no enumeration).
 * Auth0's own text: Auth0.swift and Auth0.Android tell wrong credentials from other failures by
 * comparing `error_description` with exactly this string (`isInvalidCredentials`).
 */
export const WRONG_CREDENTIALS = 'Wrong email or password.';

export const invalidRequest = (description: string, detail?: string) =>
  new OAuthError(400, 'invalid_request', description, detail);

export const invalidGrant = (description: string, detail?: string) =>
  new OAuthError(400, 'invalid_grant', description, detail);

export const unauthorizedClient = (description: string, detail?: string) =>
  new OAuthError(400, 'unauthorized_client', description, detail);

/**
 * RFC 6749 §5.2: when the client tried to authenticate with the Authorization header the server
 * MUST answer 401 with a WWW-Authenticate header naming the scheme it used.
 */
export const invalidClient = (detail: string, usedBasic: boolean) =>
  new OAuthError(
    401,
    'invalid_client',
    'Client authentication failed.',
    detail,
    usedBasic ? { 'WWW-Authenticate': 'Basic realm="passgate", charset="UTF-8"' } : {},
  );

/**
 * A dependency (DynamoDB, KMS, Secrets Manager, SES) failed or timed out. Adapters raise it at the edge
 * so the protocol layer never sees SDK errors; it becomes 503 `temporarily_unavailable` (RFC 6749
 * §4.1.2.1 code).
 */
export class DependencyUnavailableError extends Error {
  constructor(
    // `deadline`: the Lambda function ran out of time waiting on the others (http/handler.ts);
    // `ses` and `outbox`: the Mailer on AWS and locally.
    readonly dependency:
      | 'dynamodb'
      | 'kms'
      | 'secrets-manager'
      | 'signing-key'
      | 'ses'
      | 'outbox'
      | 'deadline',
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`${dependency} ${operation} failed: ${(cause as Error)?.name ?? 'error'}`);
    this.name = 'DependencyUnavailableError';
  }
}
