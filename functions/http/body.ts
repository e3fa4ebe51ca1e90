import { type DocumentNode, parse as parseJsonDocument } from '@humanwhocodes/momoa';
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
  /** JSON members that may be objects (Auth0's `user_metadata`): kept as their JSON text, checked by the caller. */
  records: readonly string[] = [],
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
  if (mediaType === 'application/json') return parseJson(text, lists, records);
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

/**
 * JSON.parse keeps the last of a repeated key, so a body like `{"password":"a","password":"b"}`
 * would pass silently. Momoa's parser (strict JSON mode) returns every member as written,
 * repeats included, so the rule of RFC 6749 §3.2 is applied to JSON bodies as to forms.
 */
function parseJson(text: string, lists: readonly string[], records: readonly string[]): Params {
  let document: DocumentNode;
  try {
    document = parseJsonDocument(text, { mode: 'json' });
  } catch {
    throw invalidRequest('The JSON body is not valid JSON.');
  }
  if (document.body.type !== 'Object') throw invalidRequest('The JSON body must be an object.');
  const params: Params = Object.create(null);
  const seen = new Set<string>();
  for (const { name, value } of document.body.members) {
    const key = name.type === 'String' ? name.value : name.name;
    if (seen.has(key)) throw invalidRequest(`Parameter '${key}' is given more than once.`);
    seen.add(key);
    if (value.type === 'Null' || (value.type === 'String' && value.value === '')) continue;
    if (
      lists.includes(key) &&
      value.type === 'Array' &&
      value.elements.every((element) => element.value.type === 'String')
    ) {
      params[key] = value.elements.map((element) => (element.value as { value: string }).value).join(' ');
      continue;
    }
    if (records.includes(key) && value.type === 'Object') {
      params[key] = text.slice(value.loc.start.offset, value.loc.end.offset);
      continue;
    }
    if (value.type !== 'String') throw invalidRequest(`Parameter '${key}' must be a string.`);
    params[key] = value.value;
  }
  return params;
}
