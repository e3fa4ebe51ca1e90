/**
 * Lambda entry point of `GET` and `POST /reset-password`, the hosted page a reset mail links to. It
 * hashes the new password (argon2) and uses the counters' key (the form's token, lifting the
 * user's brute-force blocks).
 */
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { resetPasswordEndpoint } from '../endpoints/reset-password.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';
import { counterHashKeyFromSecretsManager } from '../runtime/counter-hash-key.ts';

export const handler = proxyHandler(
  resetPasswordEndpoint,
  awsServices({ hasher: new Argon2Hasher(), counterHashKey: counterHashKeyFromSecretsManager }),
);
