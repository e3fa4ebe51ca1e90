import type { TableDefinition } from './store-schema.ts';

/**
 * The names the CDK stack and the code it deploys agree on: environment variables, stack outputs
 * and the config file in each function's asset. The stack writes them, the Lambda composition root
 * and the CLI's `--stack` mode read them; nothing else spells them out.
 */
export type TableId = TableDefinition['id'];

/**
 * Where the functions run: the build picks native binaries and the syntax target from it, the stack
 * the Lambda runtime and architecture (Graviton: about 20 % cheaper per GB-second than x86).
 */
export const lambdaPlatform = { architecture: 'arm64', nodeMajor: 24 } as const;

/** The tenant config file in each function's asset, next to index.mjs (`LAMBDA_TASK_ROOT`). */
export const CONFIG_FILE_NAME = 'passgate.config.json';

/**
 * Where a function that sets passwords finds the blocklist file of the realm at `realmIndex`:
 * relative to its task root, beside the config (the stack copies it there).
 */
export const bundledBlocklistPath = (realmIndex: number) => `blocklists/realm-${realmIndex}.sha1`;

/** A Lambda function's code and layers hold at most 250 MB unzipped; the bundle itself needs some. */
export const MAX_BUNDLED_BLOCKLIST_BYTES = 200 * 1024 * 1024;

export const environment = {
  /** KMS key (ARN) that signs new tokens. */
  signingKeyId: 'PASSGATE_SIGNING_KEY_ID',
  /** Comma-separated KMS key ARNs published in the JWKS besides the signing key (rotation). */
  verificationKeyIds: 'PASSGATE_VERIFICATION_KEY_IDS',
  /** `kms-wrapped` signing: the symmetric KMS key (ARN) that encrypts the key pairs' private halves. */
  wrappingKeyId: 'PASSGATE_WRAPPING_KEY_ID',
  /** `kms-wrapped` signing: the name of the key that signs new tokens (signing-keys table). */
  signingKeyName: 'PASSGATE_SIGNING_KEY_NAME',
  /** `kms-wrapped` signing: comma-separated names of keys published in the JWKS besides it. */
  verificationKeyNames: 'PASSGATE_VERIFICATION_KEY_NAMES',
  /** Fixed issuer for a custom domain; absent, the issuer comes from each request (request-info.ts). */
  issuer: 'PASSGATE_ISSUER',
  /**
   * Secrets Manager secret (ARN) holding the key of the keyed hash that turns usernames and IPs into
   * brute-force counter keys; set only on functions that count login attempts (endpoint-needs.ts).
   */
  counterKeySecretArn: 'PASSGATE_COUNTER_KEY_SECRET_ARN',
  /**
   * Symmetric KMS key (ARN) that seals TOTP secrets; set only on functions that seal or open them
   * (endpoint-needs.ts `mfaKey`).
   */
  mfaKeyId: 'PASSGATE_MFA_KEY_ID',
  /**
   * The SES identity (ARN) the function sends mail as, the only one its role may send as; set only
   * on functions that send mail (endpoint-needs.ts `mail`).
   */
  mailIdentityArn: 'PASSGATE_MAIL_IDENTITY_ARN',
} as const;

const words = (id: string) => id.split(/[^A-Za-z0-9]+/).filter(Boolean);

/** `users` → `PASSGATE_TABLE_USERS`, `refresh-tokens` → `PASSGATE_TABLE_REFRESH_TOKENS`. */
export const tableEnvironmentVariable = (id: TableId) =>
  `PASSGATE_TABLE_${words(id)
    .map((word) => word.toUpperCase())
    .join('_')}`;

/** `users` → `UsersTableName`: the stack output the CLI's `--stack` mode reads (docs/reference.md). */
export const tableOutputKey = (id: TableId) =>
  `${words(id)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('')}TableName`;

/** The other outputs, for operators and the curl in docs/deploying.md. */
export const outputKeys = {
  issuer: 'Issuer',
  tokenEndpoint: 'TokenEndpoint',
  jwksUri: 'JwksUri',
  /** The counter-hash secret, which `passgate --stack` reads to unblock users (`users unblock`, `set-password`). */
  counterKeySecretArn: 'CounterKeySecretArn',
} as const;
