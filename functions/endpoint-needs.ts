import type { TableId } from './deployment.ts';
import type { EndpointName } from './routes.ts';

/** DynamoDB actions, as IAM names them without the `dynamodb:` prefix. */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'Scan'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

/**
 * What one endpoint's Lambda function needs: the stack turns `tables` and `signingKeys` into that
 * function's IAM policy and nothing more, and sizes it with `memoryMiB`. `Query` and `Scan` also cover the table's indexes (`<table ARN>/index/*`).
 */
export interface EndpointNeeds {
  /** Table id (store-schema.ts) → the exact DynamoDB actions the endpoint's code calls. */
  readonly tables: Readonly<Partial<Record<TableId, readonly TableAction[]>>>;
  /**
   * - `sign`: `kms:Sign` (RSASSA_PKCS1_V1_5_SHA_256 over a digest only) and `kms:GetPublicKey` on
   *   the current signing key: it signs tokens and names their `kid`.
   * - `verify`: `kms:GetPublicKey` on every key, current and rotating: it publishes the JWKS or
   *   verifies tokens signed by any of them.
   */
  readonly signingKeys: readonly ('sign' | 'verify')[];
  /**
   * Memory in MB. Lambda's CPU share grows with memory (1769 MB = one vCPU); argon2id is CPU-bound
   * and single-threaded (p=1), so password endpoints get one full vCPU (docs/deploy.md has the numbers).
   */
  readonly memoryMiB: number;
}

/** Sized for argon2id (m=19 MiB, t=2, p=1): one full vCPU, more would sit idle. */
const PASSWORD_HASHING_MEMORY = 1769;
/** No password hashing: JSON documents and a KMS call at cold start. */
const LIGHT_MEMORY = 256;

/**
 * One entry per endpoint in routes.ts; TypeScript refuses a new endpoint without its entry. Keep
 * each list to what the code really calls: the infra tests pin the resulting IAM statements.
 */
export const endpointNeeds = {
  /** Password grants: find the user (GetItem), count the login (UpdateItem), sign the tokens. */
  token: {
    tables: { users: ['GetItem', 'UpdateItem'] },
    signingKeys: ['sign'],
    memoryMiB: PASSWORD_HASHING_MEMORY,
  },
  /** Discovery documents and the JWKS of every key in rotation. */
  metadata: { tables: {}, signingKeys: ['verify'], memoryMiB: LIGHT_MEMORY },
} as const satisfies Record<EndpointName, EndpointNeeds>;
