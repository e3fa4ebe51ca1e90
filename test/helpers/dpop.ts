import { randomUUID } from 'node:crypto';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { accessTokenHash } from '../../functions/oauth/dpop/proof.ts';

/** A device's DPoP key pair, as a mobile app keeps it in its keystore. */
export interface DpopKey {
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly jkt: string;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

/**
 * A DPoP proof (RFC 9449 §4.2) for `htm` `htu`, signed by `key`; `claims` and `header` override or
 * remove (undefined) what an honest client sends, to build each wrong proof.
 */
export async function dpopProof(
  key: DpopKey,
  target: { htm: string; htu: string; accessToken?: string; nonce?: string; iat?: number },
  overrides: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    htm: target.htm,
    htu: target.htu,
    iat: target.iat ?? Math.floor(Date.now() / 1000),
    ...(target.accessToken === undefined ? {} : { ath: accessTokenHash(target.accessToken) }),
    ...(target.nonce === undefined ? {} : { nonce: target.nonce }),
    ...overrides.claims,
  };
  const header = { alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...overrides.header };
  const defined = (record: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
  return new SignJWT(defined(claims))
    .setProtectedHeader(defined(header) as { alg: string })
    .sign(key.privateKey);
}
