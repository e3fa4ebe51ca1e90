/**
 * Lambda entry point of `POST /oauth/token`. The only function that hashes passwords and counts
 * login attempts, so the only one whose bundle carries argon2's native module and the Secrets
 * Manager client (for the counters' key).
 */
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { tokenEndpoint } from '../endpoints/token.ts';
import { proxyHandler, startedAtInit } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';
import { counterHashKeyFromSecretsManager } from '../runtime/counter-hash-key.ts';

// Cold start: the services are built during Lambda's init phase, so the counters' secret and the
// signing key (fetched beside it, ready long before the first login signs) are on their way while
// the runtime fetches the first event; the secret, then the login's two rounds, are all it waits for.
export const handler = proxyHandler(
  tokenEndpoint,
  startedAtInit(
    awsServices({
      hasher: new Argon2Hasher(),
      counterHashKey: counterHashKeyFromSecretsManager,
      warmSigner: true,
    }),
  ),
);
