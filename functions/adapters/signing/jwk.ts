import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { PublicJwk } from '../../oauth/ports.ts';

/** Public JWK with `kid` = RFC 7638 thumbprint, so the same key always has the same id. */
export async function publicJwkOf(publicKey: KeyObject): Promise<PublicJwk> {
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('not an RSA public key');
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n, e }, 'sha256');
  return { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n, e };
}
