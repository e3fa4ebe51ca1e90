import type { APIGatewayProxyEvent } from 'aws-lambda';
import { defaults } from '../config/defaults.ts';
import { invalidRequest, OAuthError } from '../oauth/errors.ts';
import { header } from './headers.ts';

export type Params = Record<string, string | undefined>;

/** The raw body bytes as API Gateway handed them over. */
function bodyBytes(event: APIGatewayProxyEvent): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * Parses a token-style request body: `application/x-www-form-urlencoded` (RFC 6749 §3.2) or
 * `application/json` (what Auth0 SDKs send). Empty values count as omitted (RFC 6749 §3.1);
 * a parameter twice is `invalid_request` (RFC 6749 §3.2).
 */
export function parseBody(
  event: APIGatewayProxyEvent,
  /** JSON members that may be arrays of strings (Auth0's `authenticator_types`): joined by spaces. */
  lists: readonly string[] = [],
): Params {
  const bytes = bodyBytes(event);
  if (bytes.length > defaults.maxBodyBytes) {
    throw new OAuthError(
      413,
      'invalid_request',
      `The request body is larger than ${defaults.maxBodyBytes} bytes.`,
    );
  }
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (mediaType === 'application/x-www-form-urlencoded') return parseForm(text);
  if (mediaType === 'application/json') return parseJson(text, lists);
  throw invalidRequest('Content-Type must be application/x-www-form-urlencoded or application/json.');
}

function decodeFormComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest('The form body is not valid percent-encoding.');
  }
}

function parseForm(text: string): Params {
  const params: Params = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const name = decodeFormComponent(separator === -1 ? pair : pair.slice(0, separator));
    const value = separator === -1 ? '' : decodeFormComponent(pair.slice(separator + 1));
    if (Object.hasOwn(params, name)) throw invalidRequest(`Parameter '${name}' is given more than once.`);
    params[name] = value === '' ? undefined : value;
  }
  return params;
}

function parseJson(text: string, lists: readonly string[]): Params {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw invalidRequest('The JSON body is not valid JSON.');
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw invalidRequest('The JSON body must be an object.');
  }
  const params: Params = Object.create(null);
  for (const [name, value] of Object.entries(document)) {
    if (value === null || value === '') continue;
    if (lists.includes(name) && Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      params[name] = value.join(' ');
      continue;
    }
    if (typeof value !== 'string') throw invalidRequest(`Parameter '${name}' must be a string.`);
    params[name] = value;
  }
  return params;
}
