import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Logger } from '../logging.ts';
import { DependencyUnavailableError, MfaRequiredError, OAuthError } from '../oauth/errors.ts';

/** RFC 6749 §5.1: responses carrying tokens (and their errors) MUST NOT be cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = NO_STORE,
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export const noStoreJson = (
  statusCode: number,
  body: unknown,
  extra: Readonly<Record<string, string>> = {},
) => jsonResponse(statusCode, body, { ...NO_STORE, ...extra });

/** A success with nothing to say (RFC 7009 §2.2: the revocation response body is ignored). */
export const noStoreEmpty = (statusCode: number): APIGatewayProxyResult => ({
  statusCode,
  headers: { ...NO_STORE },
  body: '',
});

/**
 * RFC 6749 §5.2: `error_description` is limited to printable ASCII without `"` and `\`. Messages
 * may quote what the client sent (a parameter name, say), so anything else becomes `?` here.
 */
export const errorDescription = (text: string) => text.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');

/**
 * The one place an error becomes a response: only `error` and `error_description` (and the
 * `mfa_token` of `mfa_required`) leave the server; the private detail and anything unexpected go to the log with the request id.
 */
export function errorResponse(error: unknown, logger: Logger, requestId: string): APIGatewayProxyResult {
  if (error instanceof OAuthError) {
    if (error.status >= 500 || error.detail) {
      logger.log(error.status >= 500 ? 'error' : 'info', 'request refused', {
        requestId,
        status: error.status,
        error: error.error,
        detail: error.detail,
      });
    }
    return noStoreJson(
      error.status,
      {
        error: error.error,
        error_description: errorDescription(error.description),
        ...(error instanceof MfaRequiredError ? { mfa_token: error.mfaToken } : {}),
      },
      error.headers,
    );
  }
  if (error instanceof DependencyUnavailableError) {
    logger.log('error', 'dependency unavailable', {
      requestId,
      dependency: error.dependency,
      operation: error.operation,
      cause: (error.cause as Error)?.name,
    });
    return noStoreJson(
      503,
      {
        error: 'temporarily_unavailable',
        error_description: 'The service is temporarily unavailable; retry shortly.',
      },
      { 'Retry-After': '1' },
    );
  }
  logger.log('error', 'unexpected error', {
    requestId,
    name: (error as Error)?.name,
    errorMessage: (error as Error)?.message,
    stack: (error as Error)?.stack,
  });
  return noStoreJson(500, { error: 'server_error', error_description: 'An unexpected error occurred.' });
}
