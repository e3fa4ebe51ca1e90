import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { PresentedCredentials } from '../oauth/client-auth.ts';
import { invalidClient, invalidRequest } from '../oauth/errors.ts';
import type { Params } from './body.ts';
import { header } from './headers.ts';

function decodeBasicPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw invalidClient('malformed Basic credentials', true);
  }
}

/**
 * Client credentials from `Authorization: Basic` (client_secret_basic, RFC 6749 §2.3.1: id and
 * secret form-encoded, then base64) or from the body (client_secret_post), or `client_id` alone.
 */
export function presentedCredentials(event: APIGatewayProxyEvent, params: Params): PresentedCredentials {
  const authorization = header(event, 'authorization');
  if (authorization === undefined) {
    return {
      clientId: params.client_id,
      clientSecret: params.client_secret,
      method: params.client_secret === undefined ? 'none' : 'client_secret_post',
    };
  }
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization);
  if (!match?.[1]) throw invalidClient('Authorization header is not Basic credentials', true);
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw invalidClient('malformed Basic credentials', true);
  const clientId = decodeBasicPart(decoded.slice(0, colon));
  const clientSecret = decodeBasicPart(decoded.slice(colon + 1));
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
  if (params.client_secret !== undefined) {
    throw invalidRequest('Use one client authentication method: Basic header or client_secret, not both.');
  }
  if (params.client_id !== undefined && params.client_id !== clientId) {
    throw invalidRequest('client_id in the body does not match the Authorization header.');
  }
  return { clientId, clientSecret, method: 'client_secret_basic' };
}
