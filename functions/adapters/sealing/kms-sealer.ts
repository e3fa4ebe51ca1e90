import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { DependencyUnavailableError } from '../../oauth/errors.ts';
import type { SecretSealer } from '../../oauth/ports.ts';

const PREFIX = 'kms:';

/**
 * Seals small secrets with a symmetric KMS key by direct Encrypt/Decrypt (a TOTP seed is 20 bytes,
 * far under KMS's 4 KiB limit, so no data key is needed). The context becomes the KMS encryption
 * context: authenticated, logged in CloudTrail, and required again to decrypt.
 */
export class KmsSealer implements SecretSealer {
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {}

  async seal(secret: Uint8Array, context: Readonly<Record<string, string>>): Promise<string> {
    const { CiphertextBlob } = await this.call('Encrypt', () =>
      this.client.send(
        new EncryptCommand({ KeyId: this.keyId, Plaintext: secret, EncryptionContext: { ...context } }),
      ),
    );
    if (!CiphertextBlob) throw new DependencyUnavailableError('kms', 'Encrypt', new Error('no ciphertext'));
    return PREFIX + Buffer.from(CiphertextBlob).toString('base64');
  }

  async open(sealed: string, context: Readonly<Record<string, string>>): Promise<Uint8Array> {
    if (!sealed.startsWith(PREFIX)) throw new Error('not a KMS-sealed secret');
    const { Plaintext } = await this.call('Decrypt', () =>
      this.client.send(
        new DecryptCommand({
          // Naming the key makes KMS refuse a ciphertext of any other key.
          KeyId: this.keyId,
          CiphertextBlob: Buffer.from(sealed.slice(PREFIX.length), 'base64'),
          EncryptionContext: { ...context },
        }),
      ),
    );
    if (!Plaintext) throw new DependencyUnavailableError('kms', 'Decrypt', new Error('no plaintext'));
    return new Uint8Array(Plaintext);
  }

  /** Every KMS failure (throttling, disabled key, denied access, network) is an unavailable dependency. */
  private async call<T>(operation: 'Encrypt' | 'Decrypt', run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new DependencyUnavailableError('kms', operation, error);
    }
  }
}
