/**
 * Lambda entry point of `POST /dbconnections/signup`. Hashes new passwords (argon2's native
 * module), counts sign-ups per IP (the counters' key) and sends verification mail (SES).
 */
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { signupEndpoint } from '../endpoints/signup.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';
import { counterHashKeyFromSecretsManager } from '../runtime/counter-hash-key.ts';

export const handler = proxyHandler(
  signupEndpoint,
  awsServices({ hasher: new Argon2Hasher(), counterHashKey: counterHashKeyFromSecretsManager }),
);
