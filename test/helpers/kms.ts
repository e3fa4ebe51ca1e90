import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { type AwsJsonDouble, awsError, startAwsJsonDouble } from './aws-json-double.ts';

/** RFC 8017 §9.2, note 1: the DER DigestInfo prefix of a SHA-256 digest. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface TestKmsKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyDer: Buffer;
}

/** A real RSA-2048 key standing in for an asymmetric KMS key. */
export function testKmsKey(): TestKmsKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyId: `arn:aws:kms:eu-west-1:111122223333:key/${randomUUID()}`,
    privateKey,
    publicKeyDer: createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
  };
}

/**
 * What KMS `Sign` does with `MessageType: DIGEST` and RSASSA_PKCS1_V1_5_SHA_256: no hashing, just
 * PKCS #1 v1.5 padding of DigestInfo ‖ digest under the private key (RFC 8017 §8.2.1).
 */
export function signDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  if (digest.length !== 32)
    throw new Error('Digest is invalid length for algorithm RSASSA_PKCS1_V1_5_SHA_256.');
  return privateEncrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([SHA256_DIGEST_INFO, digest]),
  );
}

/** KMS's GetPublicKey answer for a test key. */
export function publicKeyResponse(key: TestKmsKey) {
  return {
    KeyId: key.keyId,
    PublicKey: new Uint8Array(key.publicKeyDer),
    KeySpec: 'RSA_2048' as const,
    KeyUsage: 'SIGN_VERIFY' as const,
    SigningAlgorithms: [
      'RSASSA_PSS_SHA_256',
      'RSASSA_PSS_SHA_384',
      'RSASSA_PSS_SHA_512',
      'RSASSA_PKCS1_V1_5_SHA_256',
      'RSASSA_PKCS1_V1_5_SHA_384',
      'RSASSA_PKCS1_V1_5_SHA_512',
    ] as ('RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PSS_SHA_256')[],
  };
}

/** A symmetric KMS key's stand-in: AES-256-GCM, the encryption context as additional data. */
export interface TestWrappingKey {
  readonly keyId: string;
  readonly secret: Buffer;
}

export function testWrappingKey(): TestWrappingKey {
  return { keyId: `arn:aws:kms:eu-west-1:111122223333:key/${randomUUID()}`, secret: randomBytes(32) };
}

const contextBytes = (context: Record<string, string> | undefined) =>
  Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b))));

/**
 * What KMS GenerateDataKeyPairWithoutPlaintext answers for RSA_2048: a real key pair, the private
 * half (PKCS #8 DER) encrypted under the wrapping key and bound to the encryption context.
 */
export function generateWrappedKeyPair(key: TestWrappingKey, context?: Record<string, string>) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.secret, iv).setAAD(contextBytes(context));
  const sealed = Buffer.concat([
    cipher.update(privateKey.export({ format: 'der', type: 'pkcs8' })),
    cipher.final(),
  ]);
  return {
    KeyId: key.keyId,
    KeyPairSpec: 'RSA_2048' as const,
    PrivateKeyCiphertextBlob: new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), sealed])),
    PublicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
  };
}

/** What KMS Decrypt does: the plaintext, or InvalidCiphertextException for another context or key. */
export function decryptWrapped(
  key: TestWrappingKey,
  ciphertext: Uint8Array,
  context?: Record<string, string>,
): Uint8Array {
  const blob = Buffer.from(ciphertext);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.secret, blob.subarray(0, 12))
      .setAAD(contextBytes(context))
      .setAuthTag(blob.subarray(12, 28));
    return new Uint8Array(Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]));
  } catch {
    throw Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' });
  }
}

/** The symmetric key (SYMMETRIC_DEFAULT) that seals MFA secrets in the doubles. */
export const MFA_KEY_ID = 'arn:aws:kms:eu-west-1:111122223333:key/0b5e7a1c-mfa0-4c1e-9d2a-5ea1ed5ec2e7';

/**
 * A real AES-256-GCM key standing in for a symmetric KMS key: the encryption context is
 * authenticated, and a ciphertext opens only with the same context and key, as with KMS
 * (`InvalidCiphertextException` otherwise).
 */
export function symmetricKmsKey(keyId = MFA_KEY_ID) {
  const key = randomBytes(32);
  const aad = (context: Record<string, string> = {}) =>
    Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))));
  return {
    keyId,
    encrypt(plaintext: Uint8Array, context?: Record<string, string>): Buffer {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(context));
      return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
    /** Undefined where KMS would answer InvalidCiphertextException. */
    decrypt(blob: Uint8Array, context?: Record<string, string>): Buffer | undefined {
      const bytes = Buffer.from(blob);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
          .setAAD(aad(context))
          .setAuthTag(bytes.subarray(bytes.length - 16));
        return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
      } catch {
        return undefined;
      }
    },
  };
}

export type KmsDouble = AwsJsonDouble;

/**
 * KMS on loopback, answering from real keys: `Sign` and `GetPublicKey` with asymmetric keys,
 * `GenerateDataKeyPairWithoutPlaintext` and `Decrypt` with wrapping keys, `Encrypt` and `Decrypt`
 * with the MFA key.
 */
export function startKmsDouble(
  keys: readonly TestKmsKey[],
  wrappingKeys: readonly TestWrappingKey[] = [],
): Promise<KmsDouble> {
  const mfaKey = symmetricKmsKey();
  return startAwsJsonDouble(({ target, body }) => {
    if (
      body.KeyId === mfaKey.keyId &&
      (target === 'TrentService.Encrypt' || target === 'TrentService.Decrypt')
    ) {
      const mfaContext = body.EncryptionContext as unknown as Record<string, string> | undefined;
      if (target === 'TrentService.Encrypt') {
        const blob = mfaKey.encrypt(Buffer.from(body.Plaintext ?? '', 'base64'), mfaContext);
        return { status: 200, document: { KeyId: mfaKey.keyId, CiphertextBlob: blob.toString('base64') } };
      }
      const plaintext = mfaKey.decrypt(Buffer.from(body.CiphertextBlob ?? '', 'base64'), mfaContext);
      if (!plaintext) return awsError(400, 'InvalidCiphertextException', '');
      return { status: 200, document: { KeyId: mfaKey.keyId, Plaintext: plaintext.toString('base64') } };
    }
    const wrapping = wrappingKeys.find((candidate) => candidate.keyId === body.KeyId);
    const context = (body as { EncryptionContext?: Record<string, string> }).EncryptionContext;
    if (wrapping && target === 'TrentService.GenerateDataKeyPairWithoutPlaintext') {
      const pair = generateWrappedKeyPair(wrapping, context);
      return {
        status: 200,
        document: {
          ...pair,
          PrivateKeyCiphertextBlob: Buffer.from(pair.PrivateKeyCiphertextBlob).toString('base64'),
          PublicKey: Buffer.from(pair.PublicKey).toString('base64'),
        },
      };
    }
    if (wrapping && target === 'TrentService.Decrypt') {
      try {
        const plaintext = decryptWrapped(wrapping, Buffer.from(body.CiphertextBlob ?? '', 'base64'), context);
        return {
          status: 200,
          document: { KeyId: wrapping.keyId, Plaintext: Buffer.from(plaintext).toString('base64') },
        };
      } catch {
        return awsError(400, 'InvalidCiphertextException', 'context or key does not match');
      }
    }
    const key = keys.find((candidate) => candidate.keyId === body.KeyId);
    if (!key) return awsError(400, 'NotFoundException', `Key '${body.KeyId}' does not exist`);
    if (target === 'TrentService.GetPublicKey') {
      const answer = publicKeyResponse(key);
      return { status: 200, document: { ...answer, PublicKey: key.publicKeyDer.toString('base64') } };
    }
    if (target === 'TrentService.Sign') {
      if (body.MessageType !== 'DIGEST' || body.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256') {
        return awsError(400, 'ValidationException', 'this double signs digests only');
      }
      const signature = signDigest(key.privateKey, Buffer.from(body.Message ?? '', 'base64'));
      return {
        status: 200,
        document: {
          KeyId: key.keyId,
          Signature: signature.toString('base64'),
          SigningAlgorithm: body.SigningAlgorithm,
        },
      };
    }
    return awsError(400, 'UnknownOperationException', target);
  });
}
