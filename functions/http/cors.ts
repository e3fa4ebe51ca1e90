import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { decodeJwt } from 'jose';
import type { TenantConfig } from '../config/schema.ts';
import { audit } from '../oauth/audit.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { RequestInfo, Services } from '../oauth/services.ts';
import { header } from './headers.ts';

/**
 * How an endpoint answers browsers on other origins (the Fetch standard's CORS protocol):
 * - `per-client`: only origins in the requesting client's `allowedOrigins`, echoed, never `*`;
 * - `public`: `*`, for documents that are the same for everyone (discovery, JWKS);
 * - `none`: no CORS at all (introspection is for confidential back ends).
 */
export type CorsPolicy = 'per-client' | 'public' | 'none';

/** Request headers a page may send: DPoP (RFC 9449 §4.1) and Auth0-Client, which Auth0's SDKs add. */
export const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, DPoP, Auth0-Client';
/**
 * Response headers a page may read beyond the CORS-safelisted ones: Retry-After on 429 and 503,
 * WWW-Authenticate on userinfo's 401 (RFC 6750 §3), DPoP-Nonce (RFC 9449 §8).
 */
export const CORS_EXPOSE_HEADERS = 'Retry-After, WWW-Authenticate, DPoP-Nonce';
/** Chromium caps a preflight's cache at two hours; longer values are cut to that anyway. */
export const CORS_MAX_AGE_SECONDS = 7200;
const ALLOW_METHODS = 'GET, POST';

/** The origins some client allows: all a preflight can check, since it carries no `client_id`. */
const anyClientAllows = (config: TenantConfig, origin: string) =>
  config.clients.some((client) => client.allowedOrigins.includes(origin));

/**
 * The origins a request may come from. A request that names a known client is held to that
 * client's list; one that names none (or an unknown one) to every client's, so that the endpoint's
 * own `invalid_request` or `invalid_client` answer stays readable to the page that made the mistake.
 */
function allowsOrigin(config: TenantConfig, origin: string, clientId: string | undefined): boolean {
  const client = config.clients.find((candidate) => candidate.clientId === clientId);
  return client ? client.allowedOrigins.includes(origin) : anyClientAllows(config, origin);
}

/** The refusal of a foreign origin: its response must carry no CORS headers, so the page reads nothing. */
export class OriginNotAllowed extends OAuthError {
  constructor(origin: string, clientId: string) {
    super(400, 'invalid_request', 'Origin not allowed for this client.', `origin ${origin} for ${clientId}`);
  }
}

/**
 * Refuses a browser request whose `Origin` the client does not allow, before any grant runs: no
 * password is checked and no attempt counted. Requests without `Origin` (apps, servers) pass.
 */
export function refuseForeignOrigin(
  event: APIGatewayProxyEvent,
  clientId: string | undefined,
  info: RequestInfo,
  services: Pick<Services, 'config' | 'logger'>,
): void {
  const origin = header(event, 'origin');
  if (origin === undefined || clientId === undefined || allowsOrigin(services.config, origin, clientId))
    return;
  audit(services.logger, info, {
    type: 'fco',
    description: 'Origin not in the allowed origins of the client',
    client_id: clientId,
    ip: info.sourceIp,
  });
  throw new OriginNotAllowed(origin, clientId);
}

/**
 * The client an access token was issued to, read without verifying it: only to pick the origins
 * to check. A forged claim gains nothing, since the token is verified before anything is answered.
 */
export function clientIdOfBearer(authorization: string | undefined): string | undefined {
  const token = /^(?:Bearer|DPoP) +(\S+) *$/i.exec(authorization ?? '')?.[1];
  if (token === undefined) return undefined;
  try {
    const claim = decodeJwt(token).client_id;
    return typeof claim === 'string' ? claim : undefined;
  } catch {
    return undefined;
  }
}

type Headers = Record<string, string>;

/** The headers that let a page read a response: the echoed origin, never with credentials. */
function corsHeaders(policy: CorsPolicy, config: TenantConfig, origin: string | undefined): Headers {
  // Identical for everyone and cacheable: `*` whatever the Origin, so a cached copy serves every page.
  if (policy === 'public') return { 'Access-Control-Allow-Origin': '*' };
  // Apps and servers send no Origin: their answers stay exactly as they were.
  if (policy === 'none' || origin === undefined) return {};
  // The answer depends on Origin, so caches must key on it (Fetch standard, "CORS protocol and HTTP caches").
  if (!anyClientAllows(config, origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS,
    Vary: 'Origin',
  };
}

/**
 * Adds the CORS headers to any answer of an endpoint, success or error, except the refusal of a
 * foreign origin. Which client's list applies was settled by `refuseForeignOrigin`: an answer that
 * got this far came from an origin the client allows, or from a request that names no known client.
 * Without a config (a cold start that failed: its 503 is fixed text, like the gateway's own) the
 * origin is echoed as API Gateway's errors echo it.
 */
export function withCorsHeaders(
  policy: CorsPolicy,
  config: TenantConfig | undefined,
  event: APIGatewayProxyEvent,
  result: APIGatewayProxyResult,
  refused: boolean,
): APIGatewayProxyResult {
  if (refused || policy === 'none') return result;
  const added = config
    ? corsHeaders(policy, config, header(event, 'origin'))
    : gatewayErrorCorsHeaders(event);
  return { ...result, headers: { ...result.headers, ...added } };
}

/**
 * `OPTIONS`: the CORS preflight, answered 204 before any endpoint runs. It carries no `client_id`,
 * so an origin that any client allows passes; the actual request is then held to its client's list.
 * Other origins get no CORS headers, and the browser stops there.
 */
export function preflightResponse(
  policy: CorsPolicy,
  config: TenantConfig,
  event: APIGatewayProxyEvent,
): APIGatewayProxyResult {
  const origin = header(event, 'origin');
  const allowed =
    policy === 'public' ||
    (policy === 'per-client' && origin !== undefined && anyClientAllows(config, origin));
  const cors: Headers = allowed
    ? {
        'Access-Control-Allow-Origin': policy === 'public' ? '*' : (origin as string),
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS,
        'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
      }
    : {};
  return {
    statusCode: 204,
    headers: {
      Allow: `${ALLOW_METHODS}, OPTIONS`,
      ...(policy === 'per-client' ? { Vary: 'Origin' } : {}),
      ...cors,
    },
    body: '',
  };
}

/**
 * What API Gateway's own error responses carry (lib/constructs/token-api.ts), and the local
 * server's 404 and 405 with them: the request's Origin echoed unchecked, since a gateway response
 * can only map a request header, not look it up in a list. These answers are fixed text about the
 * request (no token, no user, no client's data), so letting any page read them discloses nothing.
 */
export function gatewayErrorCorsHeaders(event: { headers?: Record<string, string | undefined> }): Headers {
  const origin = header(event as APIGatewayProxyEvent, 'origin');
  return {
    ...(origin === undefined ? {} : { 'Access-Control-Allow-Origin': origin }),
    'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS,
    Vary: 'Origin',
  };
}
