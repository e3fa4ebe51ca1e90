/**
 * Lambda entry point of `POST /account/delete`: a user deletes their own account. It checks the
 * password as a login does, so its bundle carries argon2 and reads the counters' key.
 */
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { accountDeleteEndpoint } from '../endpoints/account-delete.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';
import { counterHashKeyFromSecretsManager } from '../runtime/counter-hash-key.ts';

export const handler = proxyHandler(
  accountDeleteEndpoint,
  awsServices({ hasher: new Argon2Hasher(), counterHashKey: counterHashKeyFromSecretsManager }),
);
