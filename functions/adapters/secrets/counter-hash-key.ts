import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DependencyUnavailableError } from '../../oauth/errors.ts';

/**
 * The shortest secret accepted as the counters' HMAC key: 32 characters of [A-Za-z0-9] are about
 * 190 bits. The stack generates 64 (lib/constructs/counter-hash-key.ts).
 */
export const MIN_COUNTER_KEY_CHARACTERS = 32;

/**
 * The HMAC key from the secret's string: its UTF-8 bytes, exactly as generated. The Lambda
 * functions and the CLI's `--stack` mode derive it the same way, or `users unblock` would look
 * for counters under keys nobody writes.
 */
export function counterHashKeyOf(secretString: string | undefined, secretId: string): Uint8Array {
  // A secret that is missing or too short is a deployment mistake, not an outage: a server error.
  if (secretString === undefined || secretString.length < MIN_COUNTER_KEY_CHARACTERS) {
    throw new Error(
      `secret ${secretId} must hold a string of at least ${MIN_COUNTER_KEY_CHARACTERS} characters (the brute-force counters' key)`,
    );
  }
  return new Uint8Array(Buffer.from(secretString, 'utf8'));
}

/**
 * Reads the brute-force counters' key from Secrets Manager (once per cold start in Lambda). Every
 * failure of the call itself (throttling, denied access, a deleted secret, the network) is an
 * unavailable dependency: 503, and the next request tries again.
 */
export async function readCounterHashKey(
  client: SecretsManagerClient,
  secretId: string,
): Promise<Uint8Array> {
  let secretString: string | undefined;
  try {
    ({ SecretString: secretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
  } catch (error) {
    throw new DependencyUnavailableError('secrets-manager', 'GetSecretValue', error);
  }
  return counterHashKeyOf(secretString, secretId);
}
