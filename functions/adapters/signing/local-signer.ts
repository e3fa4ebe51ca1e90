import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { PublicJwk, Signer } from '../../oauth/ports.ts';
import { publicJwkOf } from './jwk.ts';

export const SIGNING_KEY_FILE = 'signing-key.json';

/** The local RSA key, created on first start and kept in the data dir readable by its owner only. */
function loadOrCreatePrivateKey(dataDir: string): KeyObject {
  const path = join(dataDir, SIGNING_KEY_FILE);
  try {
    return createPrivateKey({
      key: JSON.parse(readFileSync(path, 'utf8')) as JWK & { kty: string },
      format: 'jwk',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  try {
    // 'wx': if another process created the key meanwhile, keep theirs.
    writeFileSync(path, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreatePrivateKey(dataDir);
    throw error;
  }
  return privateKey;
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
