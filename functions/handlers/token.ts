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

// Cold start: the signing key is fetched beside the counters' secret, and so is ready long before
// the first login signs: the secret, then the login's two rounds, are all it waits for in a row.
export const handler = proxyHandler(
  tokenEndpoint,
  awsServices({
    hasher: new Argon2Hasher(),
    counterHashKey: counterHashKeyFromSecretsManager,
    warmSigner: true,
  }),
);
