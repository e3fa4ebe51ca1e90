import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  counterHashKeyOf,
  MIN_COUNTER_KEY_CHARACTERS,
  readCounterHashKey,
} from '../../functions/adapters/secrets/counter-hash-key.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { TEST_COUNTER_KEY_SECRET, testSecretArn } from '../helpers/secrets-manager.ts';

const secretsManager = mockClient(SecretsManagerClient);
const client = () =>
  new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
const ARN = testSecretArn();

beforeEach(() => secretsManager.reset());

describe("the brute-force counters' key in Secrets Manager", () => {
  it('is the UTF-8 bytes of the secret string the stack generated', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolves({ SecretString: TEST_COUNTER_KEY_SECRET });
    const key = await readCounterHashKey(client(), ARN);
    expect(Buffer.from(key)).toEqual(Buffer.from(TEST_COUNTER_KEY_SECRET, 'utf8'));
    expect(key).toHaveLength(64);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it.each([
    ['a missing secret', new ResourceNotFoundException({ message: 'not found', $metadata: {} })],
    ['denied access', Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' })],
    ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
    ['a network failure', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('makes %s an unavailable dependency (503)', async (_case, cause) => {
    secretsManager.on(GetSecretValueCommand).rejects(cause);
    const failure = await readCounterHashKey(client(), ARN).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    expect(failure).toMatchObject({ dependency: 'secrets-manager', operation: 'GetSecretValue', cause });
  });

  it.each([
    ['a binary secret', { SecretBinary: new Uint8Array(64) }],
    ['a short secret', { SecretString: 'x'.repeat(MIN_COUNTER_KEY_CHARACTERS - 1) }],
  ])('refuses %s as a deployment mistake (500), naming the secret', async (_case, answer) => {
    secretsManager.on(GetSecretValueCommand).resolves(answer);
    const failure = await readCounterHashKey(client(), ARN).catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(DependencyUnavailableError);
    expect((failure as Error).message).toBe(
      `secret ${ARN} must hold a string of at least 32 characters (the brute-force counters' key)`,
    );
  });

  it('takes a secret of exactly the minimum length', () => {
    expect(counterHashKeyOf('k'.repeat(MIN_COUNTER_KEY_CHARACTERS), ARN)).toHaveLength(32);
  });
});
