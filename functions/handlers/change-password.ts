/**
 * Lambda entry point of `POST /dbconnections/change_password`: a password reset mail is asked
 * for. Its hourly limits key IPs and addresses with the counters' key; it hashes no password.
 */
import { changePasswordEndpoint } from '../endpoints/change-password.ts';
import { proxyHandler } from '../http/handler.ts';
import { awsServices } from '../runtime/aws-services.ts';
import { counterHashKeyFromSecretsManager } from '../runtime/counter-hash-key.ts';

export const handler = proxyHandler(
  changePasswordEndpoint,
  awsServices({ counterHashKey: counterHashKeyFromSecretsManager }),
);
