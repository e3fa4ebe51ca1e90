import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readCounterHashKey } from '../adapters/secrets/counter-hash-key.ts';
import { sdkClientConfig } from './aws-services.ts';

/**
 * The counters' key from the stack's Secrets Manager secret, read once per cold start with the same
 * timeouts as every other SDK call. Only the token function imports this, so only its bundle
 * carries the Secrets Manager client.
 */
export async function counterHashKeyFromSecretsManager(secretArn: string): Promise<Uint8Array> {
  const client = new SecretsManagerClient(sdkClientConfig);
  try {
    return await readCounterHashKey(client, secretArn);
  } finally {
    client.destroy();
  }
}
