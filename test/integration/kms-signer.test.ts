import { createHash } from 'node:crypto';
import {
  GetPublicKeyCommand,
  KMSClient,
  KMSInternalException,
  SignCommand,
  type SignCommandInput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsSigner } from '../../functions/adapters/signing/kms-signer.ts';
import { errorResponse } from '../../functions/http/respond.ts';
import { silentLogger } from '../../functions/logging.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { signJwt } from '../../functions/oauth/jwt.ts';
import { publicKeyResponse, signDigest, type TestKmsKey, testKmsKey } from '../helpers/kms.ts';

const current = testKmsKey();
const previous = testKmsKey();
const kms = mockClient(KMSClient);

/** KMS answering from real keys: GetPublicKey with their DER public halves, Sign over the digest. */
function answerFromRealKeys(keys: readonly TestKmsKey[]) {
  for (const key of keys) {
    kms.on(GetPublicKeyCommand, { KeyId: key.keyId }).resolves(publicKeyResponse(key));
  }
  kms.on(SignCommand).callsFake(async (input: SignCommandInput) => {
    const key = keys.find((candidate) => candidate.keyId === input.KeyId);
    if (!key || !input.Message) throw new Error('unknown key');
    return {
      KeyId: key.keyId,
      Signature: new Uint8Array(signDigest(key.privateKey, input.Message)),
      SigningAlgorithm: input.SigningAlgorithm,
    };
  });
}

const signer = () =>
  new KmsSigner({
    client: new KMSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
    signingKeyId: current.keyId,
    verificationKeyIds: [previous.keyId],
  });

const claims = {
  iss: 'https://auth.example.com/',
  aud: 'https://api.example.com/',
  sub: 'customers|0123456789abcdef01234567',
  iat: Math.floor(Date.now() / 1000),
  exp: Math.floor(Date.now() / 1000) + 900,
};

beforeEach(() => {
  kms.reset();
  answerFromRealKeys([current, previous]);
});
afterEach(() => kms.reset());

describe('KMS signer', () => {
  it('signs RS256 tokens that jose verifies against the JWKS built from GetPublicKey', async () => {
    const kmsSigner = signer();
    const token = await signJwt(kmsSigner, 'at+jwt', claims);
    const jwks = createLocalJWKSet({ keys: [...(await kmsSigner.publicJwks())] });
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: claims.iss,
      audience: claims.aud,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    expect(payload).toEqual(claims);
    const { n, e } = current.privateKey.export({ format: 'jwk' });
    expect(protectedHeader.kid).toBe(await calculateJwkThumbprint({ kty: 'RSA', n, e }, 'sha256'));
  });

  it('sends KMS only the SHA-256 digest, so token size never meets the 4 KB message limit', async () => {
    const big = { ...claims, permissions: Array.from({ length: 400 }, (_, i) => `read:resource-${i}`) };
    const token = await signJwt(signer(), 'at+jwt', big);
    expect(token.length).toBeGreaterThan(8 * 1024);
    const signingInput = token.slice(0, token.lastIndexOf('.'));
    const [call] = kms.commandCalls(SignCommand);
    expect(call?.args[0].input).toEqual({
      KeyId: current.keyId,
      Message: createHash('sha256').update(signingInput).digest(),
      MessageType: 'DIGEST',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    });
  });

  it('publishes every key in rotation and signs with the current one only', async () => {
    const kmsSigner = signer();
    const jwks = await kmsSigner.publicJwks();
    expect(jwks.map((jwk) => Object.keys(jwk).sort())).toEqual([
      ['alg', 'e', 'kid', 'kty', 'n', 'use'],
      ['alg', 'e', 'kid', 'kty', 'n', 'use'],
    ]);
    expect(jwks.map((jwk) => jwk.kid)).toEqual([
      await kmsSigner.currentKeyId(),
      await calculateJwkThumbprint(previous.privateKey.export({ format: 'jwk' }) as never, 'sha256'),
    ]);
    await signJwt(kmsSigner, 'JWT', claims);
    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input.KeyId)).toEqual([current.keyId]);
  });

  it('asks KMS for each public key once per cold start', async () => {
    const kmsSigner = signer();
    await Promise.all([kmsSigner.currentKeyId(), kmsSigner.currentKeyId(), kmsSigner.publicJwks()]);
    await signJwt(kmsSigner, 'JWT', claims);
    await kmsSigner.publicJwks();
    expect(kms.commandCalls(GetPublicKeyCommand).map((call) => call.args[0].input.KeyId)).toEqual([
      current.keyId,
      previous.keyId,
    ]);
  });

  it('turns KMS failures into 503 temporarily_unavailable, and tries again on the next request', async () => {
    kms
      .on(GetPublicKeyCommand, { KeyId: current.keyId })
      .rejectsOnce(new KMSInternalException({ message: 'internal', $metadata: {} }))
      .resolves(publicKeyResponse(current));
    const kmsSigner = signer();
    const failure = await kmsSigner.currentKeyId().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    expect(failure).toMatchObject({ dependency: 'kms', operation: 'GetPublicKey' });
    const response = errorResponse(failure, silentLogger, 'request-1');
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The service is temporarily unavailable; retry shortly.',
    });
    expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    await expect(kmsSigner.currentKeyId()).resolves.toEqual(expect.any(String));
  });

  it.each([
    ['throttled', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
    ['denied', Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' })],
    ['disabled key', Object.assign(new Error('disabled'), { name: 'DisabledException' })],
    ['network', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('makes a %s Sign a DependencyUnavailableError', async (_case, cause) => {
    kms.on(SignCommand).rejects(cause);
    const failure = await signJwt(signer(), 'JWT', claims).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    expect(failure).toMatchObject({ dependency: 'kms', operation: 'Sign' });
  });

  it('refuses a key that cannot sign RS256, as a deployment mistake rather than an outage', async () => {
    kms.on(GetPublicKeyCommand, { KeyId: current.keyId }).resolves({
      ...publicKeyResponse(current),
      KeySpec: 'ECC_NIST_P256',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    });
    const failure = await signer()
      .currentKeyId()
      .catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(DependencyUnavailableError);
    expect((failure as Error).message).toMatch(/is not an RSA SIGN_VERIFY key/);
  });
});
