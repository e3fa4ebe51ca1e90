import { createHash, type KeyObject } from 'node:crypto';
import type { PublicJwk } from '../../oauth/ports.ts';

/**
 * Public JWK with `kid` = RFC 7638 thumbprint, so the same key always has the same id. RFC 7638
 * §3.2: the SHA-256 of the required members (`e`, `kty`, `n` for RSA) in lexicographic order, as
 * JSON without whitespace. Hashed with node:crypto: WebCrypto's `subtle.digest` (what jose's
 * `calculateJwkThumbprint` uses) would load Node's WebIDL layer at the first login of a cold start.
 */
export function publicJwkOf(publicKey: KeyObject): PublicJwk {
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('not an RSA public key');
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
  return { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n, e };
}
