/**
 * The ports the protocol layer talks to. Adapters (DynamoDB, KMS, local key, argon2) implement
 * them; nothing in functions/oauth imports an AWS SDK.
 */

/** A user as Auth0 users know it, plus what passgate needs to verify and authorise them. */
export interface UserRecord {
  readonly realm: string;
  readonly user_id: string;
  /** As entered (after NFKC), shown back to operators. */
  readonly username: string;
  /** NFKC + case-folded: the lookup key. */
  readonly username_key: string;
  readonly email?: string;
  readonly email_verified: boolean;
  readonly name?: string;
  readonly blocked: boolean;
  readonly created_at: string;
  readonly updated_at: string;
  readonly last_login?: string;
  readonly logins_count: number;
  /**
   * PHC string naming its algorithm (see password-hash-format.ts): argon2id for passwords set
   * here, or a hash imported as it was (argon2i, bcrypt, PBKDF2, scrypt) until the user's next
   * login upgrades it. Never logged, never returned by the CLI.
   */
  readonly password_hash: string;
  /** API identifier → scopes the user holds, for APIs with `enforcePermissions`. */
  readonly permissions: Readonly<Record<string, readonly string[]>>;
}

export type NewUser = Omit<UserRecord, 'last_login' | 'logins_count' | 'updated_at'>;

export class UserExistsError extends Error {
  constructor() {
    super('a user with this username already exists in the realm');
    this.name = 'UserExistsError';
  }
}

export class UserNotFoundError extends Error {
  constructor() {
    super('no such user');
    this.name = 'UserNotFoundError';
  }
}

export interface UserStore {
  /** One strongly consistent read on (realm, username_key): the whole cost of a login lookup. */
  findByUsername(realm: string, usernameKey: string): Promise<UserRecord | undefined>;
  findById(realm: string, userId: string): Promise<UserRecord | undefined>;
  /** Fails with UserExistsError when the username is taken in that realm. */
  create(user: NewUser): Promise<UserRecord>;
  /**
   * An import row with --upsert: creates the user, or overwrites the profile and password of the
   * user with this username and the same user_id, keeping its creation time, login count and
   * permissions. Fails with UserExistsError when the username belongs to a user with another id.
   */
  upsert(user: NewUser): Promise<'created' | 'updated'>;
  /**
   * Replaces the password hash only while it is still `oldHash`, so a password changed since it
   * was verified is never overwritten. False when the hash (or the user) changed meanwhile.
   */
  upgradePasswordHash(user: UserRecord, oldHash: string, newHash: string): Promise<boolean>;
  /** Counts a successful login; a no-op when the user was deleted meanwhile. */
  recordLogin(user: UserRecord, at: string): Promise<void>;
  /** The update methods fail with UserNotFoundError when the user does not exist. */
  setPassword(realm: string, usernameKey: string, passwordHash: string, at: string): Promise<UserRecord>;
  setBlocked(realm: string, usernameKey: string, blocked: boolean, at: string): Promise<UserRecord>;
  setPermissions(
    realm: string,
    usernameKey: string,
    api: string,
    scopes: readonly string[],
    at: string,
  ): Promise<UserRecord>;
  delete(realm: string, usernameKey: string): Promise<UserRecord>;
  list(realm: string): AsyncIterable<UserRecord>;
}

/** A public signing key as published in the JWKS (RFC 7517), never with private members. */
export interface PublicJwk {
  readonly kty: 'RSA';
  readonly kid: string;
  readonly alg: 'RS256';
  readonly use: 'sig';
  readonly n: string;
  readonly e: string;
}

export interface Signer {
  /** `kid` of the key that signs new tokens. */
  currentKeyId(): Promise<string>;
  /** RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) over a JWS signing input (RFC 7515 §5.1). */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
  /** Every key a verifier may meet: the current one and any still being rotated out. */
  publicJwks(): Promise<readonly PublicJwk[]>;
}

export interface PasswordHasher {
  /** An argon2id PHC string with the current parameters. */
  hash(password: string): Promise<string>;
  /** Verifies against any stored hash format the hasher knows; a malformed hash never verifies. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * True for anything other than argon2id with the current parameters (another algorithm, or
   * argon2id with older ones): after a successful verify the login re-hashes the password.
   */
  needsRehash(passwordHash: string): boolean;
  /**
   * Spends what a real verify spends and always fails: the unknown-user path calls it so that
   * an unknown username costs the same time as a wrong password.
   */
  verifyDummy(password: string): Promise<false>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
