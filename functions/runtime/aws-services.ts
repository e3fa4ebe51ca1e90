import { resolve } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../adapters/dynamodb/client.ts';
import { dynamoStores } from '../adapters/dynamodb/stores.ts';
import { mailSender } from '../adapters/mail/mail-sender.ts';
import { KmsSealer } from '../adapters/sealing/kms-sealer.ts';
import { KmsSigner } from '../adapters/signing/kms-signer.ts';
import { KmsWrappedSigner } from '../adapters/signing/kms-wrapped-signer.ts';
import { loadValidatedConfigFile } from '../config/config-file.ts';
import type { TenantConfig } from '../config/schema.ts';
import { CONFIG_FILE_NAME, environment, tableEnvironmentVariable } from '../deployment.ts';
import { jsonLogger, type Logger } from '../logging.ts';
import { type Mailer, type PasswordHasher, type Signer, systemClock } from '../oauth/ports.ts';
import type { Services } from '../oauth/services.ts';
import { type TableNames, tables } from '../store-schema.ts';
import { noLoginCounters, noMail, noPasswordHashing, noSecretSealing } from './refusing-stand-ins.ts';

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

export interface AwsServicesOptions {
  /**
   * Only the token function hashes passwords (functions/handlers/token.ts); the others get a
   * hasher that refuses, and never load argon2's native module.
   */
  readonly hasher?: PasswordHasher;
  /**
   * Reads the brute-force counters' key from the secret whose ARN the stack sets
   * (runtime/counter-hash-key.ts). Only the token function counts login attempts; the others get
   * counters that refuse, and never call Secrets Manager.
   */
  readonly counterHashKey?: (secretArn: string) => Promise<Uint8Array>;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /**
   * Fetches the signing key (KMS GetPublicKey, or the wrapped key's read and Decrypt) at once, beside
   * the counters' secret, for a function whose first request signs (the token function). A failure
   * is forgotten and retried at signing.
   */
  readonly warmSigner?: boolean;
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
  // The issuer is an https base URL with a trailing slash (docs/reference.md, "The issuer").
  if (!/^https:\/\/[^/?#]+\/(?:[^?#]*\/)?$/.test(issuer)) {
    throw new Error(
      `${environment.issuer} must be an https URL ending in "/", got ${JSON.stringify(issuer)}`,
    );
  }
  return issuer;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** The variables each signing mode needs; the lists of further keys may be absent. */
const signingVariables = {
  kms: [environment.signingKeyId],
  'kms-wrapped': [environment.wrappingKeyId, environment.signingKeyName],
} as const;

/** The signer of the config's signing mode, from the keys the stack names in the environment. */
function signerFor(
  mode: TenantConfig['signing']['mode'],
  env: NodeJS.ProcessEnv,
  db: DynamoDBDocumentClient,
  tableNames: TableNames,
): Signer {
  const kms = new KMSClient(sdkClientConfig);
  if (mode === 'kms-wrapped') {
    const values = required(env, signingVariables[mode]);
    return new KmsWrappedSigner({
      kms,
      db,
      tableName: tableNames['signing-keys'],
      wrappingKeyId: values[environment.wrappingKeyId] as string,
      signingKeyName: values[environment.signingKeyName] as string,
      verificationKeyNames: list(env[environment.verificationKeyNames]),
    });
  }
  return new KmsSigner({
    client: kms,
    signingKeyId: required(env, signingVariables[mode])[environment.signingKeyId] as string,
    verificationKeyIds: list(env[environment.verificationKeyIds]),
  });
}

/**
 * The Lambda composition root: tables, keys, the counters' secret and the issuer from the
 * environment the stack sets (functions/deployment.ts), the tenant config from the file beside the
 * bundle, which the stack validated at synth. Built once per cold start by `proxyHandler`; a failed build (a
 * Secrets Manager outage, say) is retried on the next request.
 */
export function awsServices(options: AwsServicesOptions = {}): () => Promise<Services> {
  return async () => {
    const env = options.env ?? process.env;
    const tableVariables = tables.map((table) => tableEnvironmentVariable(table.id));
    // Cold start: the secret is on its way while the config file is read.
    const secretArn = env[environment.counterKeySecretArn];
    const counterHashKey = secretArn ? options.counterHashKey?.(secretArn) : undefined;
    counterHashKey?.catch(() => undefined); // awaited below; a bad config file must not leave it unhandled
    const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();
    const config = withBundledFiles(
      loadValidatedConfigFile(resolve(taskRoot, env.PASSGATE_CONFIG || CONFIG_FILE_NAME)),
      taskRoot,
    );
    const values = required(env, [
      ...tableVariables,
      ...signingVariables[config.signing.mode],
      ...(options.counterHashKey ? [environment.counterKeySecretArn] : []),
    ]);
    const tableNames = Object.fromEntries(
      tables.map((table) => [table.id, values[tableEnvironmentVariable(table.id)]]),
    ) as TableNames;
    const db = documentClient(sdkClientConfig);
    const signer = signerFor(config.signing.mode, env, db, tableNames);
    if (options.warmSigner) signer.currentKeyId().catch(() => undefined);
    const counters = counterHashKey ? { counterHashKey: await counterHashKey } : noLoginCounters;
    const mfaKeyId = env[environment.mfaKeyId];
    const mailIdentityArn = env[environment.mailIdentityArn];
    return {
      config,
      ...dynamoStores(db, tableNames),
      ...counters,
      hasher: options.hasher ?? noPasswordHashing,
      // A client is built only where MFA is on: each costs a cold start milliseconds of config resolution.
      sealer: mfaKeyId ? new KmsSealer(new KMSClient(sdkClientConfig), mfaKeyId) : noSecretSealing,
      signer,
      // SES in the function's own region, where the stack grants sending as that identity only.
      mailer: mailIdentityArn ? await sesMailer(config) : noMail,
      clock: systemClock,
      logger: options.logger ?? jsonLogger(),
      issuer: fixedIssuer(env),
    };
  };
}

/**
 * Imported only by the functions that send mail (the stack sets the identity for them alone):
 * otherwise the SES client is about 60 KiB of every function's code, read and compiled at each
 * cold start (the token function's: 465 → 401 KiB). esbuild puts an `import()` in chunks of its own.
 */
async function sesMailer(config: TenantConfig): Promise<Mailer> {
  const ses = await import('../adapters/mail/ses-mailer.ts');
  return ses.sesMailer(sdkClientConfig, () => mailSender(config));
}

/**
 * The stack copies the realms' blocklist files into the bundles of the functions that set
 * passwords and names them by their path in the bundle (lib/constructs/passgate-function.ts):
 * found from the task root, whatever the process's working directory.
 */
function withBundledFiles(config: TenantConfig, taskRoot: string): TenantConfig {
  return {
    ...config,
    realms: config.realms.map((realm) =>
      realm.passwordPolicy.blocklist
        ? {
            ...realm,
            passwordPolicy: {
              ...realm.passwordPolicy,
              blocklist: resolve(taskRoot, realm.passwordPolicy.blocklist),
            },
          }
        : realm,
    ),
  };
}
