import { browserEndpoint } from '../http/handler.ts';
import { issuerFor } from '../http/request-info.ts';
import { jsonResponse } from '../http/respond.ts';
import { discoveryDocument } from '../oauth/discovery.ts';
import { invalidRequest } from '../oauth/errors.ts';

/** Public and identical for everyone: caches may keep it for five minutes. */
const CACHEABLE = { 'Cache-Control': 'public, max-age=300' } as const;

/**
 * `GET .well-known/jwks.json`, `GET .well-known/openid-configuration` and its RFC 8414 twin
 * `GET .well-known/oauth-authorization-server`.
 */
export const metadataEndpoint = browserEndpoint('public', async (event, services) => {
  const path = event.path.replace(/\/+$/, '');
  if (path.endsWith('/.well-known/jwks.json')) {
    return jsonResponse(200, { keys: await services.signer.publicJwks() }, CACHEABLE);
  }
  if (
    path.endsWith('/.well-known/openid-configuration') ||
    path.endsWith('/.well-known/oauth-authorization-server')
  ) {
    return jsonResponse(200, discoveryDocument(issuerFor(event, services), services.config), CACHEABLE);
  }
  throw invalidRequest('Unknown metadata document.');
});
