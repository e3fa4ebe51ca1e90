import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  InvalidCiphertextException,
  KMSClient,
  KMSInternalException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsSealer } from '../../functions/adapters/sealing/kms-sealer.ts';
import { LocalSealer } from '../../functions/adapters/sealing/local-sealer.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { MFA_KEY_ID, symmetricKmsKey } from '../helpers/kms.ts';

const secret = new Uint8Array(Array.from({ length: 20 }, (_, i) => i * 7));
const owner = { realm: 'customers', user_id: 'u1', authenticator_id: 'dev_a' };
const kms = mockClient(KMSClient);
const key = symmetricKmsKey();

/** KMS answering with real AES-GCM under one key, the encryption context authenticated. */
function answerWithRealCrypto() {
  kms.on(EncryptCommand).callsFake(async (input: EncryptCommandInput) => {
    if (input.KeyId !== MFA_KEY_ID || !input.Plaintext) throw new Error('unexpected Encrypt');
    return { KeyId: MFA_KEY_ID, CiphertextBlob: key.encrypt(input.Plaintext, input.EncryptionContext) };
  });
  kms.on(DecryptCommand).callsFake(async (input: DecryptCommandInput) => {
    const plaintext = key.decrypt(input.CiphertextBlob as Uint8Array, input.EncryptionContext);
    if (input.KeyId !== MFA_KEY_ID || !plaintext) {
      throw new InvalidCiphertextException({ message: '', $metadata: {} });
    }
    return { KeyId: MFA_KEY_ID, Plaintext: plaintext };
  });
}

describe('KMS secret sealer', () => {
  beforeEach(answerWithRealCrypto);
  afterEach(() => kms.reset());
  const sealer = () => new KmsSealer(new KMSClient({ region: 'eu-west-1' }), MFA_KEY_ID);

  it('seals with Encrypt under the encryption context and opens with Decrypt naming the key', async () => {
    const sealed = await sealer().seal(secret, owner);
    expect(sealed).toMatch(/^kms:[A-Za-z0-9+/]+=*$/);
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64'));
    expect(await sealer().open(sealed, owner)).toEqual(secret);
    expect(kms.commandCalls(EncryptCommand)[0]?.args[0].input).toMatchObject({
      KeyId: MFA_KEY_ID,
      EncryptionContext: owner,
    });
    expect(kms.commandCalls(DecryptCommand)[0]?.args[0].input).toMatchObject({
      KeyId: MFA_KEY_ID,
      EncryptionContext: owner,
    });
  });

  it("never opens a secret for another user: copying one user's seal onto another fails", async () => {
    const sealed = await sealer().seal(secret, owner);
    await expect(sealer().open(sealed, { ...owner, user_id: 'u2' })).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });

  it('turns a KMS failure into an unavailable dependency (503)', async () => {
    kms.on(EncryptCommand).rejects(new KMSInternalException({ message: 'boom', $metadata: {} }));
    await expect(sealer().seal(secret, owner)).rejects.toMatchObject({
      dependency: 'kms',
      operation: 'Encrypt',
    });
  });
});

describe('local secret sealer', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'passgate-sealer-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps an AES-256 key in the data dir, readable by its owner only, and the same key across restarts', async () => {
    const sealed = await LocalSealer.fromDataDir(dataDir).seal(secret, owner);
    expect(statSync(join(dataDir, 'mfa-sealing-key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'mfa-sealing-key')).size).toBe(32);
    expect(await LocalSealer.fromDataDir(dataDir).open(sealed, owner)).toEqual(secret);
  });

  it('authenticates the context and the ciphertext', async () => {
    const sealer = LocalSealer.fromDataDir(dataDir);
    const sealed = await sealer.seal(secret, owner);
    await expect(sealer.open(sealed, { ...owner, authenticator_id: 'dev_b' })).rejects.toThrow();
    const bytes = Buffer.from(sealed.slice('local:'.length), 'base64url');
    bytes[14] = (bytes[14] ?? 0) ^ 1; // one bit of the ciphertext flipped
    const tampered = `local:${bytes.toString('base64url')}`;
    await expect(sealer.open(tampered, owner)).rejects.toThrow();
    expect(await sealer.seal(secret, owner)).not.toBe(sealed); // a fresh IV each time
  });
});
