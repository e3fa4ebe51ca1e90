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
 * What one endpoint's Lambda function needs: the stack turns `tables`, `signingKeys` and
 * `counterHashKey` into that function's IAM policy and environment and nothing more, and sizes it
 * with `memoryMiB`. `Query` and `Scan` reach the table and the indexes named in `indexes`, each
 * by name (`<table ARN>/index/<name>`), and no other.
 */
export interface EndpointNeeds {
  /** Table id (store-schema.ts) → the exact DynamoDB actions the endpoint's code calls. */
  readonly tables: Readonly<Partial<Record<TableId, readonly TableAction[]>>>;
  /** Table id → the indexes (store-schema.ts) its `Query` or `Scan` reads. */
  readonly indexes?: Readonly<Partial<Record<TableId, readonly string[]>>>;
  /**
   * - `sign`: `kms:Sign` (RSASSA_PKCS1_V1_5_SHA_256 over a digest only) and `kms:GetPublicKey` on
   *   the current signing key: it signs tokens and names their `kid`.
   * - `verify`: `kms:GetPublicKey` on every key, current and rotating: it publishes the JWKS or
   *   verifies tokens signed by any of them.
   */
  readonly signingKeys: readonly ('sign' | 'verify')[];
  /**
   * Reads the secret of the brute-force counters' keyed hash at cold start: the stack sets its ARN
   * in the function's environment and grants `secretsmanager:GetSecretValue` on that secret only.
   * Only endpoints that count login attempts; the others never call Secrets Manager.
   */
  readonly counterHashKey: boolean;
  /**
   * The symmetric KMS key that seals TOTP secrets: `encrypt` (`kms:Encrypt`) to seal a new one,
   * `decrypt` (`kms:Decrypt`) to check a code. The stack sets the key's ARN in the environment of
   * these functions only.
   */
  readonly mfaKey: readonly ('encrypt' | 'decrypt')[];
  /**
   * Sends mail: the stack grants `ses:SendEmail` as the config's sender identity only (no
   * wildcard) and names that identity in the function's environment.
   */
  readonly mail: boolean;
  /**
   * Sets passwords under the realms' policy (passwords/realm-policy.ts): the stack copies each
   * realm's `passwordPolicy.blocklist` file into this function's bundle, and no other's.
   */
  readonly setsPasswords: boolean;
  /**
   * Memory in MB. Lambda's CPU share grows with memory (1769 MB = one vCPU); argon2id is CPU-bound
   * and single-threaded (p=1), so password endpoints get one full vCPU (docs/performance.md, "The token function's memory", has the numbers).
   */
  readonly memoryMiB: number;
}

/** Sized for argon2id (m=19 MiB, t=2, p=1): one full vCPU, more would sit idle. */
const PASSWORD_HASHING_MEMORY = 1769;
/** No password hashing: JSON documents, a few DynamoDB reads and a KMS call at cold start. */
const LIGHT_MEMORY = 256;

/**
 * One entry per endpoint in routes.ts; TypeScript refuses a new endpoint without its entry. Keep
 * each list to what the code really calls: the infra tests pin the resulting IAM statements.
 */
export const endpointNeeds = {
  /**
   * Every grant. Password grants (login.ts, brute-force.ts): charge the user-and-IP run and the
   * IP's day (UpdateItem; GetItem where a refused write returns no item), read the user and the
   * realm's hash cost classes at once (BatchGetItem), record a new class after a failure
   * (UpdateItem); after the password, one transaction (sign-in-store.ts: its actions need the
   * item actions, not an action of their own) counts the login (UpdateItem on the user), starts
   * the session (PutItem of its family) and ends the run (UpdateItem), and the IP's day gets its
   * place back (UpdateItem); should the signing beside them fail, the session is deleted
   * (DeleteItem) and the count taken back (UpdateItem). Refresh grant (refresh-rotation.ts): read
   * family and user at once (BatchGetItem over both tables; GetItem for a token of the earlier
   * format: its record first, then family and user), rotate the
   * family, undo that should the signing beside it fail, or revoke it (UpdateItem). A login that needs a
   * second factor stores its `mfa_token` (PutItem); the MFA grants (mfa/second-factor.ts) read it
   * and the user (GetItem), open the TOTP secret (kms:Decrypt), take a guess and accept the code
   * (UpdateItem on the user) and mark the token spent (UpdateItem). Signs the tokens.
   * A DPoP proof (http/dpop.ts) is recorded once (PutItem), and read back (GetItem) only when
   * that write's condition fails, to tell a replay from the SDK's retry of the write.
   */
  token: {
    tables: {
      users: ['GetItem', 'BatchGetItem', 'UpdateItem'],
      'refresh-tokens': ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
      attempts: ['GetItem', 'UpdateItem'],
      'dpop-proofs': ['PutItem', 'GetItem'],
    },
    signingKeys: ['sign'],
    counterHashKey: true,
    mfaKey: ['decrypt'],
    mail: false,
    setsPasswords: false,
    memoryMiB: PASSWORD_HASHING_MEMORY,
  },
  /**
   * RFC 7009 (revocation.ts): read token and family (GetItem), end the family (UpdateItem), whoever
   * its user is: no user read. Verifies access tokens (to tell their own client they cannot be
   * revoked) with every key.
   */
  revoke: {
    tables: { 'refresh-tokens': ['GetItem', 'UpdateItem'] },
    signingKeys: ['verify'],
    counterHashKey: false,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /** RFC 7662 (introspection.ts): reads only; refresh tokens from the store, access tokens by signature. */
  introspect: {
    tables: { users: ['GetItem'], 'refresh-tokens': ['GetItem'] },
    signingKeys: ['verify'],
    counterHashKey: false,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /**
   * OpenID Connect userinfo (userinfo.ts): verifies the access token with every key, then finds its
   * user by id (user-store.ts findById: Query on the `by-user-id` index, then a consistent GetItem).
   * Records the DPoP proof of a `DPoP` request as the token endpoint does.
   */
  userinfo: {
    tables: { users: ['Query', 'GetItem'], 'dpop-proofs': ['PutItem', 'GetItem'] },
    indexes: { users: ['by-user-id'] },
    signingKeys: ['verify'],
    counterHashKey: false,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /** Discovery documents and the JWKS of every key in rotation. */
  metadata: {
    tables: {},
    signingKeys: ['verify'],
    counterHashKey: false,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /** Auth0's MFA API (mfa/mfa-api.ts): the `mfa_token` and the user item, read only. */
  'mfa-authenticators': {
    tables: { users: ['GetItem'], 'refresh-tokens': ['GetItem'] },
    signingKeys: [],
    counterHashKey: false,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /** Reads the `mfa_token` and the user, seals a new secret (kms:Encrypt), writes the pending enrolment. */
  'mfa-associate': {
    tables: { users: ['GetItem', 'UpdateItem'], 'refresh-tokens': ['GetItem'] },
    signingKeys: [],
    counterHashKey: false,
    mfaKey: ['encrypt'],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  'mfa-challenge': {
    tables: { users: ['GetItem'], 'refresh-tokens': ['GetItem'] },
    signingKeys: [],
    counterHashKey: false,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /**
   * Auth0's sign-up (accounts/signup.ts): takes one of the IP's hourly sign-ups (UpdateItem on the
   * attempts table; GetItem only when that write's answer was lost), hashes the password, creates
   * the user (PutItem) or, on an address that has an account, reads it (GetItem); stores the
   * verification ticket (PutItem) and sends the mail. Where users pick usernames it claims the
   * address first (PutItem, read back with GetItem when taken, its holder found by id: Query on
   * `by-user-id`) and gives it back when the username was taken (DeleteItem).
   */
  signup: {
    tables: {
      users: ['PutItem', 'GetItem', 'Query', 'DeleteItem'],
      attempts: ['UpdateItem', 'GetItem'],
      tickets: ['PutItem'],
    },
    indexes: { users: ['by-user-id'] },
    signingKeys: [],
    counterHashKey: true,
    mfaKey: [],
    mail: true,
    setsPasswords: true,
    memoryMiB: PASSWORD_HASHING_MEMORY,
  },
  /**
   * The verification link (accounts/email-verification.ts): reads the ticket (GetItem), marks the
   * user's address verified (UpdateItem) and spends the ticket (UpdateItem).
   */
  'verify-email': {
    tables: { users: ['UpdateItem'], tickets: ['GetItem', 'UpdateItem'] },
    signingKeys: [],
    counterHashKey: false,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /**
   * A user deletes their own account (accounts/account-deletion.ts): verifies the access token with
   * every key and finds its user as userinfo does (Query on `by-user-id`, GetItem), records a DPoP
   * proof as userinfo does; re-checks the password as a login does (login.ts verifyCredentials:
   * the attempt counters, GetItem and UpdateItem; the user, GetItem; after a wrong password the
   * realm's hash cost classes, GetItem and UpdateItem), then removes the user item (DeleteItem).
   */
  'account-delete': {
    tables: {
      users: ['Query', 'GetItem', 'BatchGetItem', 'UpdateItem', 'DeleteItem'],
      attempts: ['GetItem', 'UpdateItem'],
      'dpop-proofs': ['PutItem', 'GetItem'],
    },
    indexes: { users: ['by-user-id'] },
    signingKeys: ['verify'],
    counterHashKey: true,
    mfaKey: [],
    mail: false,
    setsPasswords: false,
    memoryMiB: PASSWORD_HASHING_MEMORY,
  },
  /**
   * A reset mail is asked for (accounts/password-reset.ts): takes the hourly limits per IP and per
   * address (UpdateItem on the attempts table; GetItem when a retried write must recognise itself),
   * finds the user (GetItem; where users pick a username, the address's claim names the user, who
   * is found by id: Query on `by-user-id`, GetItem), writes the ticket (PutItem) and mails its link.
   */
  'change-password': {
    tables: { users: ['GetItem', 'Query'], attempts: ['GetItem', 'UpdateItem'], tickets: ['PutItem'] },
    indexes: { users: ['by-user-id'] },
    signingKeys: [],
    counterHashKey: true,
    mfaKey: [],
    mail: true,
    setsPasswords: false,
    memoryMiB: LIGHT_MEMORY,
  },
  /**
   * The reset page (accounts/reset-page.ts): reads the ticket and its user (GetItem), sets the
   * password in one conditional write (UpdateItem), spends the ticket (UpdateItem), lifts the
   * user's brute-force blocks (Query on `by-user`, UpdateItem each) and mails the notice. Hashes
   * the new password.
   */
  'reset-password': {
    tables: {
      users: ['GetItem', 'UpdateItem'],
      tickets: ['GetItem', 'UpdateItem'],
      attempts: ['Query', 'UpdateItem'],
    },
    indexes: { attempts: ['by-user'] },
    signingKeys: [],
    counterHashKey: true,
    mfaKey: [],
    mail: true,
    setsPasswords: true,
    memoryMiB: PASSWORD_HASHING_MEMORY,
  },
} as const satisfies Record<EndpointName, EndpointNeeds>;
