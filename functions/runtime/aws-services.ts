import { resolve } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { documentClient } from '../adapters/dynamodb/client.ts';
import { DynamoUserStore } from '../adapters/dynamodb/user-store.ts';
import { KmsSigner } from '../adapters/signing/kms-signer.ts';
import { loadConfigFile } from '../config/load.ts';
import { CONFIG_FILE_NAME, environment, tableEnvironmentVariable } from '../deployment.ts';
import { jsonLogger, type Logger } from '../logging.ts';
import { type PasswordHasher, systemClock } from '../oauth/ports.ts';
import type { Services } from '../oauth/services.ts';
import { type TableNames, tables } from '../store-schema.ts';

/** The stack's Lambda timeout; every SDK call below gives up well before it. */
export const FUNCTION_TIMEOUT_SECONDS = 10;

/**
 * An SDK call must end well inside the function's timeout, so that the function itself answers
 * 503 `temporarily_unavailable` instead of being killed and leaving API Gateway to answer a bare
 * 502. Worst case per call: 2 attempts × (0.5 s to connect + 1.5 s for the response) plus at most
 * 1 s of throttling back-off = 5 s, half the 10 s timeout. DynamoDB and KMS answer in milliseconds
 * when healthy, so the limits cost nothing on the happy path.
 */
export const sdkClientConfig = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1500, throwOnRequestTimeout: true },
} as const;

/** Functions that do not log users in get this one, and never load argon2's native module. */
const noPasswordHashing: PasswordHasher = {
  hash: refuseHashing,
  verify: refuseHashing,
  verifyDummy: refuseHashing,
};

async function refuseHashing(): Promise<never> {
  throw new Error('this function does not hash passwords: give its handler a hasher');
}

export interface AwsServicesOptions {
  /** Only the token function hashes passwords (functions/handlers/token.ts). */
  readonly hasher?: PasswordHasher;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

function required(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`missing environment variable(s) set by the stack: ${missing.join(', ')}`);
  }
  return Object.fromEntries(names.map((name) => [name, env[name] as string]));
}

function fixedIssuer(env: NodeJS.ProcessEnv): string | undefined {
  const issuer = env[environment.issuer];
  if (issuer === undefined || issuer === '') return undefined;
  // CONTRACT §3: the issuer is an https base URL with a trailing slash.
  if (!/^https:\/\/[^/?#]+\/(?:[^?#]*\/)?$/.test(issuer)) {
    throw new Error(
      `${environment.issuer} must be an https URL ending in "/", got ${JSON.stringify(issuer)}`,
    );
  }
  return issuer;
}

/**
 * The Lambda composition root: tables, keys and issuer from the environment the stack sets
 * (functions/deployment.ts), the tenant config from the file beside the bundle, validated again
 * here. Built once per cold start by `proxyHandler`; a failed build is retried on the next request.
 */
export function awsServices(options: AwsServicesOptions = {}): () => Promise<Services> {
  return async () => {
    const env = options.env ?? process.env;
    const tableVariables = tables.map((table) => tableEnvironmentVariable(table.id));
    const values = required(env, [...tableVariables, environment.signingKeyId]);
    const tableNames = Object.fromEntries(
      tables.map((table) => [table.id, values[tableEnvironmentVariable(table.id)]]),
    ) as TableNames;
    const config = loadConfigFile(
      resolve(env.LAMBDA_TASK_ROOT ?? process.cwd(), env.PASSGATE_CONFIG || CONFIG_FILE_NAME),
    );
    const verificationKeyIds = (env[environment.verificationKeyIds] ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    return {
      config,
      users: new DynamoUserStore(documentClient(sdkClientConfig), tableNames.users),
      hasher: options.hasher ?? noPasswordHashing,
      signer: new KmsSigner({
        client: new KMSClient(sdkClientConfig),
        signingKeyId: values[environment.signingKeyId] as string,
        verificationKeyIds,
      }),
      clock: systemClock,
      logger: options.logger ?? jsonLogger(),
      issuer: fixedIssuer(env),
    };
  };
}
