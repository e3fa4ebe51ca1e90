/**
 * The DynamoDB tables, defined once: the local bootstrap creates them in the embedded engine and
 * the CDK stack builds them from the same definitions, so the two can never drift apart.
 * Every table is single-item-conditional-write friendly: no transactions (dynalite has none).
 */
export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /**
   * KEYS_ONLY: the index only finds the key; the item is then read strongly consistent from the
   * table. `include`: the index also carries these attributes, for reads that only sum them.
   */
  readonly projection: 'KEYS_ONLY' | 'ALL' | { readonly include: readonly string[] };
}

export interface TableDefinition {
  /** Stable short name: the local table name suffix and the CDK construct id. */
  readonly id: 'users' | 'refresh-tokens' | 'attempts' | 'signing-keys' | 'dpop-proofs' | 'tickets';
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; expiry is always checked on read as well. */
  readonly ttlAttribute?: string;
}

/**
 * Users: one item per (realm, normalised username) so a login is one GetItem on `pk` (its MFA
 * enrolment and wrong-code bucket are `mfa_*` attributes of the same item, mfa-store.ts); the
 * `by-user-id` index finds a user by its never-changing id (`user_ref` = realm#user_id).
 * Beside them, one item per realm, `#hash-costs#<realm>`, holds the realm's hash cost classes
 * (see UserStore.hashCostClasses).
 */
export const usersTable = {
  id: 'users',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [
    { indexName: 'by-user-id', partitionKey: { name: 'user_ref', type: 'S' }, projection: 'KEYS_ONLY' },
  ],
} as const satisfies TableDefinition;

/**
 * Brute-force counters, two kinds of item under `pk` (keyed hashes, never a raw IP or username),
 * each changed by one conditional single-item write:
 * - `ui#…`, one per username and IP: the consecutive run (`failures`, lapsing at `failures_until`);
 * - `ip#…#<UTC day>`, one per IP and day: the attempts it holds (`failures`), whose limit is the
 *   write's own condition, so parallel requests cannot pass it;
 * - `rl#<purpose>#…#<window end>`, one per subject and window of a RateLimiter (sign-ups per IP an
 *   hour, say): `count` against the limit in the write's condition, `ids` of the requests counted.
 * Both keep the ids of the attempts they count in `charges`, so a retried write counts once.
 * `by-user` finds all of one user's runs so `users unblock` is one Query. Expiry is in
 * `expires_at` and checked on read.
 */
export const attemptsTable = {
  id: 'attempts',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [
    { indexName: 'by-user', partitionKey: { name: 'user_ref', type: 'S' }, projection: 'KEYS_ONLY' },
  ],
  ttlAttribute: 'expires_at',
} as const satisfies TableDefinition;

/**
 * Refresh tokens, two kinds of item under one key `pk`, each read with one strongly consistent GetItem:
 * - `token#<SHA-256 of the token>`: a token, pointing at its family (the value is never stored);
 * - `family#<family id>`: the rotation family with its `current` token, `revoked` flag and bindings;
 * - `mfa#<SHA-256 of an mfa_token>`: a login waiting for its second factor (10 minutes, then TTL).
 * No index: ending a user's sessions bumps `session_epoch` on the user item (see ports.ts), which
 * every refresh re-reads anyway, so it costs one write and no query. `expires_at` (epoch seconds)
 * is the family's absolute expiry on both kinds; expiry is checked on every read as well.
 */
export const refreshTokensTable = {
  id: 'refresh-tokens',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [],
  ttlAttribute: 'expires_at',
} as const satisfies TableDefinition;

/**
 * Signing keys of the `kms-wrapped` mode, one item per key name (`key#<name>`): the private key
 * as KMS encrypted it under the stack's symmetric key (never in the clear) and the public key. The
 * first function that needs a key generates it and writes it on the condition that no other did.
 */
export const signingKeysTable = {
  id: 'signing-keys',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [],
} as const satisfies TableDefinition;

/**
 * DPoP proofs already used (RFC 9449 §11.1): one item per proof, `proof#<SHA-256 of key thumbprint
 * and jti>`, written once with a conditional PutItem. `expires_at` (epoch seconds) is when the
 * proof's `iat` leaves the accepted window; TTL sweeps it after that.
 */
export const dpopProofsTable = {
  id: 'dpop-proofs',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [],
  ttlAttribute: 'expires_at',
} as const satisfies TableDefinition;

/**
 * The tickets of single-use links in mails (email verification, password reset): one item per
 * ticket, `ticket#<SHA-256 of the value>` (the value is never stored), written once, spent once by
 * a conditional write that marks it (`spent_by`). `expires_at_seconds` is for TTL; `expires_at`
 * (epoch ms) is checked on every read.
 */
export const ticketsTable = {
  id: 'tickets',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [],
  ttlAttribute: 'expires_at_seconds',
} as const satisfies TableDefinition;

export const tables: readonly TableDefinition[] = [
  usersTable,
  refreshTokensTable,
  attemptsTable,
  signingKeysTable,
  dpopProofsTable,
  ticketsTable,
];

/** Physical table names: from the environment in Lambda (set by the stack), prefixed locally. */
export type TableNames = Readonly<Record<TableDefinition['id'], string>>;

export const localTableNames: TableNames = {
  users: 'passgate-users',
  'refresh-tokens': 'passgate-refresh-tokens',
  // Named when the counters took their per-user-and-IP form; a table made then still holds an
  // index nothing reads any more, which costs nothing locally.
  attempts: 'passgate-login-counters',
  'signing-keys': 'passgate-signing-keys',
  'dpop-proofs': 'passgate-dpop-proofs',
  tickets: 'passgate-tickets',
};
