import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { join } from 'node:path';
import type { PublicJwk, Signer } from '../../oauth/ports.ts';
import { readOrCreateSecretFile } from '../files/read-or-create.ts';
import { publicJwkOf } from './jwk.ts';

export const SIGNING_KEY_FILE = 'signing-key.json';

/** The local RSA key, created on first start and kept in the data dir readable by its owner only. */
function loadOrCreatePrivateKey(dataDir: string): KeyObject {
  const jwk = readOrCreateSecretFile(join(dataDir, SIGNING_KEY_FILE), () =>
    JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })),
  );
  return createPrivateKey({ key: JSON.parse(jwk.toString('utf8')), format: 'jwk' });
}

/** Signs with a local RSA-2048 key: local mode only; in AWS the KMS signer takes its place. */
export class LocalSigner implements Signer {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly jwk: PublicJwk,
  ) {}

  static async fromDataDir(dataDir: string): Promise<LocalSigner> {
    const privateKey = loadOrCreatePrivateKey(dataDir);
    return new LocalSigner(privateKey, publicJwkOf(createPublicKey(privateKey)));
  }

  async currentKeyId(): Promise<string> {
    return this.jwk.kid;
  }

  /**
   * An RSA-2048 signature costs about 0.6 ms of CPU. The local server signs on behalf of many
   * requests at once (a Lambda instance serves one), so the signature is made on libuv's thread
   * pool (`sign` with a callback) and the HTTP thread goes on with other requests meanwhile.
   */
  sign(signingInput: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) =>
      sign('sha256', signingInput, this.privateKey, (error, signature) =>
        error ? reject(error) : resolve(signature),
      ),
    );
  }

  async publicJwks(): Promise<readonly PublicJwk[]> {
    return [this.jwk];
  }
}
