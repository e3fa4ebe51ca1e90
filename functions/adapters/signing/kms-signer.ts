import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { DependencyUnavailableError } from '../../oauth/errors.ts';
import type { PublicJwk, Signer } from '../../oauth/ports.ts';
import { publicJwkOf } from './jwk.ts';

/** RS256 (RFC 7518 §3.3) is RSASSA-PKCS1-v1_5 with SHA-256. */
const SIGNING_ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';

export interface KmsSignerOptions {
  readonly client: KMSClient;
  /** The key (id, ARN or alias) that signs new tokens. */
  readonly signingKeyId: string;
  /** Keys still published in the JWKS while they rotate in or out; they never sign. */
  readonly verificationKeyIds?: readonly string[];
}

/**
 * Signs with an asymmetric KMS key whose private half never leaves KMS. The SHA-256 digest is
 * computed here and sent with `MessageType: DIGEST`, so a token of any size is one small request
 * (KMS refuses RAW messages over 4 KB). Public keys are fetched once per cold start.
 */
export class KmsSigner implements Signer {
  private readonly client: KMSClient;
  private readonly signingKeyId: string;
  private readonly allKeyIds: readonly string[];
  private readonly jwks = new Map<string, Promise<PublicJwk>>();

  constructor(options: KmsSignerOptions) {
    this.client = options.client;
    this.signingKeyId = options.signingKeyId;
    this.allKeyIds = [...new Set([options.signingKeyId, ...(options.verificationKeyIds ?? [])])];
  }

  async currentKeyId(): Promise<string> {
    return (await this.publicJwk(this.signingKeyId)).kid;
  }

  async sign(signingInput: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(signingInput).digest();
    const { Signature } = await this.call('Sign', () =>
      this.client.send(
        new SignCommand({
          KeyId: this.signingKeyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: SIGNING_ALGORITHM,
        }),
      ),
    );
    if (!Signature) throw new Error('KMS Sign returned no signature');
    return Signature;
  }

  async publicJwks(): Promise<readonly PublicJwk[]> {
    const jwks = await Promise.all(this.allKeyIds.map((keyId) => this.publicJwk(keyId)));
    return jwks.filter((jwk, i) => jwks.findIndex((other) => other.kid === jwk.kid) === i);
  }

  /** Memoised per key; a failed fetch is forgotten so the next request tries again. */
  private publicJwk(keyId: string): Promise<PublicJwk> {
    let jwk = this.jwks.get(keyId);
    if (!jwk) {
      jwk = this.fetchPublicJwk(keyId);
      jwk.catch(() => this.jwks.delete(keyId));
      this.jwks.set(keyId, jwk);
    }
    return jwk;
  }

  private async fetchPublicJwk(keyId: string): Promise<PublicJwk> {
    const response = await this.call('GetPublicKey', () =>
      this.client.send(new GetPublicKeyCommand({ KeyId: keyId })),
    );
    // A wrong key is a deployment mistake, not an outage: it fails loudly as a server error.
    if (
      response.KeyUsage !== 'SIGN_VERIFY' ||
      !response.KeySpec?.startsWith('RSA_') ||
      !response.SigningAlgorithms?.includes(SIGNING_ALGORITHM) ||
      !response.PublicKey
    ) {
      throw new Error(`KMS key ${keyId} is not an RSA SIGN_VERIFY key for RS256`);
    }
    return publicJwkOf(
      createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' }),
    );
  }

  /** Every KMS failure (throttling, disabled key, denied access, network) is an unavailable dependency. */
  private async call<T>(operation: 'Sign' | 'GetPublicKey', run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new DependencyUnavailableError('kms', operation, error);
    }
  }
}
