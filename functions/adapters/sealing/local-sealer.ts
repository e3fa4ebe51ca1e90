import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { SecretSealer } from '../../oauth/ports.ts';
import { readOrCreateSecretFile } from '../files/read-or-create.ts';

const PREFIX = 'local:';
/** NIST SP 800-38D §8.2.2: a random 96-bit IV per message. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The context as GCM's additional authenticated data, in a canonical order. */
const aad = (context: Readonly<Record<string, string>>) =>
  Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))), 'utf8');

/**
 * Local mode's stand-in for KMS: AES-256-GCM under a key file in the data dir (mode 0600), the
 * context authenticated as additional data so that a ciphertext opens for its owner only.
 */
export class LocalSealer implements SecretSealer {
  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new Error('the local sealing key must be 32 bytes (AES-256)');
  }

  static fromDataDir(dataDir: string): LocalSealer {
    return new LocalSealer(readOrCreateSecretFile(join(dataDir, 'mfa-sealing-key'), () => randomBytes(32)));
  }

  async seal(secret: Uint8Array, context: Readonly<Record<string, string>>): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(aad(context));
    const sealed = Buffer.concat([iv, cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
    return PREFIX + sealed.toString('base64url');
  }

  async open(sealed: string, context: Readonly<Record<string, string>>): Promise<Uint8Array> {
    if (!sealed.startsWith(PREFIX)) throw new Error('not a locally sealed secret');
    const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES))
      .setAAD(aad(context))
      .setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return new Uint8Array(
      Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]),
    );
  }
}
