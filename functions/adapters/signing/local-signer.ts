import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import type { PublicJwk, Signer } from '../../oauth/ports.ts';
import { readOrCreateSecretFile } from '../files/read-or-create.ts';

export const SIGNING_KEY_FILE = 'signing-key.json';

/** The local RSA key, created on first start and kept in the data dir readable by its owner only. */
function loadOrCreatePrivateKey(dataDir: string): KeyObject {
  const jwk = readOrCreateSecretFile(join(dataDir, SIGNING_KEY_FILE), () =>
    JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })),
  );
  return createPrivateKey({ key: JSON.parse(jwk.toString('utf8')), format: 'jwk' });
}

/** Public JWK with `kid` = RFC 7638 thumbprint, so the same key always has the same id. */
export async function publicJwkOf(publicKey: KeyObject): Promise<PublicJwk> {
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('not an RSA public key');
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n, e }, 'sha256');
  return { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n, e };
}

/** Signs with a local RSA-2048 key: local mode only; in AWS the KMS signer takes its place. */
export class LocalSigner implements Signer {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly jwk: PublicJwk,
  ) {}

  static async fromDataDir(dataDir: string): Promise<LocalSigner> {
    const privateKey = loadOrCreatePrivateKey(dataDir);
    return new LocalSigner(privateKey, await publicJwkOf(createPublicKey(privateKey)));
  }

  async currentKeyId(): Promise<string> {
    return this.jwk.kid;
  }

  async sign(signingInput: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', signingInput, this.privateKey);
  }

  async publicJwks(): Promise<readonly PublicJwk[]> {
    return [this.jwk];
  }
}
