/**
 * Lambda entry point of `POST /oauth/token`. The only function that hashes passwords and counts
 * login attempts, so the only one whose bundle carries argon2's native module and the Secrets
 * Manager client (for the counters' key).
 */
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { tokenEndpoint } from '../endpoints/token.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';
import { counterHashKeyFromSecretsManager } from '../runtime/counter-hash-key.ts';

const services = awsServices({
  hasher: new Argon2Hasher(),
  counterHashKey: counterHashKeyFromSecretsManager,
});

export const handler = proxyHandler(tokenEndpoint, async () => {
  const built = await services();
  // Cold start: the signing key's id (KMS GetPublicKey) is fetched while the first login reads the
  // store and verifies its password, not after it. A failure is forgotten and retried at signing.
  built.signer.currentKeyId().catch(() => undefined);
  return built;
});
