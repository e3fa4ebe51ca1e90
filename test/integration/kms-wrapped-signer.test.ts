import {
  DecryptCommand,
  type DecryptCommandInput,
  GenerateDataKeyPairWithoutPlaintextCommand,
  type GenerateDataKeyPairWithoutPlaintextCommandInput,
  KMSClient,
  KMSInternalException,
  SignCommand,
} from '@aws-sdk/client-kms';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KmsWrappedSigner } from '../../functions/adapters/signing/kms-wrapped-signer.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { signJwt } from '../../functions/oauth/jwt.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { decryptWrapped, generateWrappedKeyPair, testWrappingKey } from '../helpers/kms.ts';

const wrapping = testWrappingKey();
const kms = mockClient(KMSClient);
let store: TestStore;

beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  await store.close();
});

/** KMS answering with real key pairs, encrypted under the wrapping key and bound to their context. */
beforeEach(() => {
  kms.reset();
  kms
    .on(GenerateDataKeyPairWithoutPlaintextCommand)
    .callsFake(async (input: GenerateDataKeyPairWithoutPlaintextCommandInput) => {
      if (input.KeyId !== wrapping.keyId || input.KeyPairSpec !== 'RSA_2048')
        throw new Error('unexpected key');
      return generateWrappedKeyPair(wrapping, input.EncryptionContext);
    });
  kms.on(DecryptCommand).callsFake(async (input: DecryptCommandInput) => {
    if (decryptOutages > 0) {
      decryptOutages -= 1;
      throw new KMSInternalException({ message: 'KMS down', $metadata: {} });
    }
    return {
      KeyId: wrapping.keyId,
      Plaintext: decryptWrapped(wrapping, input.CiphertextBlob as Uint8Array, input.EncryptionContext),
    };
  });
});
/** Decrypt calls that fail before KMS answers again. */
let decryptOutages = 0;

let names = 0;
/** A deployment's key names, fresh per test so tests never share a stored key. */
const keyNames = () => ({ current: `k${names++}`, next: `k${names++}` });

const signer = (current: string, verification: readonly string[] = []) =>
  new KmsWrappedSigner({
    kms: new KMSClient({ region: 'eu-west-1' }),
    db: store.db,
    tableName: store.names['signing-keys'],
    wrappingKeyId: wrapping.keyId,
    signingKeyName: current,
    verificationKeyNames: verification,
  });

const calls = (command: object) => kms.commandCalls(command as never).length;

describe('kms-wrapped signing', () => {
  it('signs RS256 tokens in process that verify against its JWKS, with one Decrypt per cold start and no KMS call per token', async () => {
    const { current } = keyNames();
    const coldStart = signer(current);
    const tokens = await Promise.all(
      [1, 2, 3].map((n) => signJwt(coldStart, 'at+jwt', { sub: `user-${n}` })),
    );
    const jwks = createLocalJWKSet({ keys: [...(await coldStart.publicJwks())] });
    for (const token of tokens) {
      const { protectedHeader } = await jwtVerify(token, jwks, { algorithms: ['RS256'] });
      expect(protectedHeader).toMatchObject({
        alg: 'RS256',
        typ: 'at+jwt',
        kid: await coldStart.currentKeyId(),
      });
    }
    expect(calls(GenerateDataKeyPairWithoutPlaintextCommand)).toBe(1);
    expect(calls(DecryptCommand)).toBe(1);
    expect(calls(SignCommand)).toBe(0);
    // The next cold start finds the stored key: it decrypts it, and generates nothing.
    const next = signer(current);
    expect(await next.currentKeyId()).toBe(await coldStart.currentKeyId());
    await signJwt(next, 'at+jwt', { sub: 'user-4' });
    expect(calls(GenerateDataKeyPairWithoutPlaintextCommand)).toBe(1);
    expect(calls(DecryptCommand)).toBe(2);
  });

  it('stores the private key only as KMS encrypted it, bound to its name', async () => {
    const { current } = keyNames();
    await signer(current).currentKeyId();
    const { Item } = await store.db.send(
      new GetCommand({ TableName: store.names['signing-keys'], Key: { pk: `key#${current}` } }),
    );
    expect(Object.keys(Item ?? {}).sort()).toEqual(['pk', 'private_key_ciphertext', 'public_key']);
    const ciphertext = Item?.private_key_ciphertext as Uint8Array;
    expect(() => decryptWrapped(wrapping, ciphertext, { 'passgate:signing-key': 'another-name' })).toThrow(
      'InvalidCiphertextException',
    );
    expect(Buffer.from(ciphertext).includes(Buffer.from('BEGIN'))).toBe(false);
  });

  it('gives every function racing to create a key the same key', async () => {
    const { current } = keyNames();
    const racers = Array.from({ length: 5 }, () => signer(current));
    const kids = await Promise.all(racers.map((racer) => racer.currentKeyId()));
    expect(new Set(kids).size).toBe(1);
    const token = await signJwt(racers[3] as KmsWrappedSigner, 'at+jwt', { sub: 'raced' });
    const jwks = createLocalJWKSet({ keys: [...(await (racers[0] as KmsWrappedSigner).publicJwks())] });
    await expect(jwtVerify(token, jwks)).resolves.toBeDefined();
  });

  it('publishes the next key before it signs and the previous one after, the rotation of the kms mode', async () => {
    const { current, next } = keyNames();
    const before = signer(current, [next]);
    const oldToken = await signJwt(before, 'at+jwt', { sub: 'before' });
    const published = (await before.publicJwks()).map((jwk) => jwk.kid);
    expect(published).toHaveLength(2);
    // The next key takes over; the old one stays published until its tokens expire.
    const after = signer(next, [current]);
    expect(await after.currentKeyId()).toBe(published[1]);
    const newToken = await signJwt(after, 'at+jwt', { sub: 'after' });
    const jwks = createLocalJWKSet({ keys: [...(await after.publicJwks())] });
    await expect(jwtVerify(oldToken, jwks)).resolves.toBeDefined();
    await expect(jwtVerify(newToken, jwks)).resolves.toBeDefined();
  });

  it('reports KMS failing as an unavailable dependency, and decrypts at the next request', async () => {
    const { current } = keyNames();
    await signer(current).currentKeyId(); // the key exists
    const cold = signer(current);
    decryptOutages = 1;
    await expect(signJwt(cold, 'at+jwt', { sub: 'x' })).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(signJwt(cold, 'at+jwt', { sub: 'x' })).resolves.toMatch(/^ey/);
  });
});
