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
  /** Profile fields a user gives at sign-up (Auth0's `dbconnections/signup`), kept as given. */
  readonly given_name?: string;
  readonly family_name?: string;
  readonly nickname?: string;
  readonly picture?: string;
  /** At most 10 string properties (Auth0's limits), the user's own. */
  readonly user_metadata?: Readonly<Record<string, string>>;
  readonly blocked: boolean;
  readonly created_at: string;
  readonly updated_at: string;
  readonly last_login?: string;
  readonly logins_count: number;
  /**
   * PHC string naming its algorithm (see passwords/hash-format.ts): argon2id for passwords set
   * here, or a hash imported as it was (argon2i, bcrypt, PBKDF2, scrypt) until the user's next
   * login upgrades it. Never logged, never returned by the CLI.
   */
  readonly password_hash: string;
  /** API identifier → scopes the user holds, for APIs with `enforcePermissions`. */
  readonly permissions: Readonly<Record<string, readonly string[]>>;
  /**
   * Bumped in the same write that changes the password or blocks the user: a refresh token family
   * remembers the epoch it was started in and dies when the user's has moved on. Absent means 0
   * (users created before epochs started at random).
   */
  readonly session_epoch?: number;
  /**
   * True while the user has a confirmed MFA authenticator, false while one is associated but not
   * confirmed yet, absent with none. Kept on the user item, which a login reads anyway, so deciding
   * `mfa_required` costs no read more (mfa/policy.ts).
   */
  readonly mfa_active?: boolean;
}

/**
 * A user to create. Its `session_epoch` starts at a random value (firstSessionEpoch), so the
 * sessions of a deleted user never come back when a user with the same id and username is created
 * again (an import run a second time, say): their families remember another epoch.
 */
export type NewUser = Omit<
  UserRecord,
  'last_login' | 'logins_count' | 'updated_at' | 'session_epoch' | 'mfa_active'
> & {
  readonly session_epoch: number;
};

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
  /** One strongly consistent read on (realm, username_key). */
  findByUsername(realm: string, usernameKey: string): Promise<UserRecord | undefined>;
  /**
   * What a password login reads, in one strongly consistent read: the user (none when absent, or
   * when `usernameKey` is undefined for a username that cannot exist) and the realm's hash cost
   * classes, which a failed login spends a verify of each of.
   */
  findForLogin(realm: string, usernameKey: string | undefined): Promise<LoginLookup>;
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
  /**
   * The update methods fail with UserNotFoundError when the user does not exist. `setPassword` and
   * `setBlocked` end every refresh token of the user in the same single-item write (they bump
   * `session_epoch`), so no crash can leave a new password with the old sessions still alive.
   */
  setPassword(realm: string, usernameKey: string, passwordHash: string, at: string): Promise<UserRecord>;
  setBlocked(realm: string, usernameKey: string, blocked: boolean, at: string): Promise<UserRecord>;
  /**
   * A password reset by mail: sets `newHash`, marks the email verified (the mail reached it) and
   * ends the user's sessions, in one write, only while the user is still `user_id` with `email`
   * and `oldHash` (or already `newHash`: this very write, retried after its answer was lost).
   * False when any of them changed: the reset link is dead.
   */
  resetPassword(
    user: Pick<UserRecord, 'realm' | 'username_key' | 'user_id'>,
    expected: { readonly passwordHash: string; readonly email: string },
    newHash: string,
    at: string,
  ): Promise<boolean>;
  /**
   * Marks the address verified, only while the user is still `user.user_id` and still has `email`
   * (a link for an address since changed, or for a deleted and re-created namesake, verifies
   * nothing). False when that condition failed.
   */
  setEmailVerified(
    user: Pick<UserRecord, 'realm' | 'username_key' | 'user_id'>,
    email: string,
    at: string,
  ): Promise<boolean>;
  /**
   * Where users sign in with a username of their own (`signup.requireUsername`), a sign-up claims
   * its address for the new user id first, so an address has one account per realm: one item per
   * (realm, address key), written only where none is. Undefined when `userId` holds the claim now
   * (also on a retried write); otherwise the id of the user who holds it. `previous`: take over a
   * claim only while `previous` still holds it (a claim whose user no longer exists).
   */
  claimEmail(realm: string, emailKey: string, userId: string, previous?: string): Promise<string | undefined>;
  /** The id of the user holding the claim on this address, read strongly consistent; undefined for none. */
  emailHolder(realm: string, emailKey: string): Promise<string | undefined>;
  /** Gives a claim back, only while `userId` holds it (a sign-up whose username was taken). */
  releaseEmail(realm: string, emailKey: string, userId: string): Promise<void>;
  setPermissions(
    realm: string,
    usernameKey: string,
    api: string,
    scopes: readonly string[],
    at: string,
  ): Promise<UserRecord>;
  /**
   * Removes the user item, and with it the user's authenticators; the user's refresh token
   * families die with it (a refresh re-reads the user). With `userId`, only while the item is
   * still that user's, not a new one who took the username since.
   */
  delete(realm: string, usernameKey: string, userId?: string): Promise<UserRecord>;
  list(realm: string): AsyncIterable<UserRecord>;
  /**
   * The cost classes of hashes stored in the realm other than new argon2id ones: imported
   * hashes, and argon2id made with older parameters. A failed login spends a dummy verify of each
   * class the account's own hash is not, so its time tells nothing about the account. `version`
   * changes with every addition, so that what is added was budgeted against what is there.
   */
  hashCostClasses(realm: string): Promise<RealmHashCostClasses>;
  /**
   * Adds to the realm's classes if they are still at `version`; false when they changed since
   * (read again and budget again). Adding a class already there changes nothing else.
   */
  addHashCostClasses(realm: string, classes: readonly string[], version: number): Promise<boolean>;
  /** Forgets these of the realm's classes; one not there changes nothing. */
  removeHashCostClasses(realm: string, classes: readonly string[]): Promise<void>;
}

export interface RealmHashCostClasses {
  readonly classes: readonly string[];
  readonly version: number;
}

export interface LoginLookup {
  readonly user?: UserRecord;
  readonly costClasses: RealmHashCostClasses;
}

/**
 * One rotation family: everything a refresh token is bound to. Its `current` token is the only one
 * that may be rotated; `previous` is remembered for reuse detection and the reuse leeway.
 * Times are epoch milliseconds.
 */
export interface RefreshFamily {
  readonly family_id: string;
  readonly client_id: string;
  readonly realm: string;
  readonly user_id: string;
  /** With `realm`, the users table key: the user is re-read with one strongly consistent GetItem. */
  readonly username_key: string;
  /** The user's `session_epoch` when the family started; any later bump ends the family. */
  readonly session_epoch: number;
  readonly audience: string;
  /** Granted at login; a refresh may narrow the access token's scope, never this one (RFC 6749 §6). */
  readonly scope: readonly string[];
  readonly created_at: number;
  /** Fixed when the family starts and never extended by rotation (as in Auth0). */
  readonly absolute_expires_at: number;
  /** SHA-256 of the one token that may be rotated now. */
  readonly current: string;
  /**
   * When the current token falls idle (capped at `absolute_expires_at`). Absent only in a family
   * not rotated since tokens named their family: its current token's record holds it.
   */
  readonly idle_expires_at?: number;
  /**
   * SHA-256 of the family secret every token of the family carries (sessions/refresh-token-format.ts):
   * what proves a presented token belongs to the family. Absent only in a family whose tokens are
   * all of the earlier format, found through their records.
   */
  readonly secret_hash?: string;
  readonly previous?: string;
  readonly rotated_at?: number;
  /** `current`, sealed with the server's secret and `previous` (sessions/refresh-tokens.ts); only with a reuse leeway. */
  readonly successor_seal?: string;
  readonly revoked: boolean;
  readonly revoked_at?: number;
  /** How the login that started the family authenticated (RFC 8176); absent means `["pwd"]`. */
  readonly amr?: readonly string[];
  /**
   * RFC 9449 §5: the thumbprint of the DPoP key a public client's family was started with; every
   * refresh must then prove possession of that key. Absent: not bound (no proof, or a
   * confidential client, whose tokens are bound to its authentication instead).
   */
  readonly jkt?: string;
}

/**
 * A refresh token of the format before tokens named their family, found by the SHA-256 of its
 * value. No longer written: the records of tokens issued before are read until they expire.
 */
export interface RefreshTokenRecord {
  readonly token_hash: string;
  readonly family_id: string;
  /** Copies of the family's user key, so the family and the user can be read at the same time. */
  readonly realm: string;
  readonly username_key: string;
  readonly issued_at: number;
  /** The idle lifetime: unused until then, the token dies (capped at the family's absolute expiry). */
  readonly idle_expires_at: number;
  /** Kept until the family's absolute expiry so that reuse is still recognised after rotation. */
  readonly absolute_expires_at: number;
}

/** What a rotation sets in a family; an absent field is removed. */
export type FamilyRotation = Pick<
  RefreshFamily,
  'current' | 'idle_expires_at' | 'secret_hash' | 'previous' | 'rotated_at' | 'successor_seal'
>;

/**
 * Single-item reads and conditional writes only (no transactions): the protocol layer orders them
 * (functions/oauth/sessions/refresh-rotation.ts). Every read is strongly consistent.
 */
export interface RefreshTokenStore {
  /** The record of a token of the earlier format (RefreshTokenRecord). */
  findToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  findFamily(familyId: string): Promise<RefreshFamily | undefined>;
  /**
   * A family and a user, both read strongly consistent in one call (a refresh needs both before
   * anything else; the token names both). The user is whoever holds that key, which the caller
   * must check is the family's.
   */
  findFamilyAndUser(
    familyId: string,
    user: { realm: string; username_key: string },
  ): Promise<{ family?: RefreshFamily; user?: UserRecord }>;
  /**
   * The linearisation point of a rotation (and of its undo): sets `rotation` if and only if `from`
   * is still the family's current token and the family is not revoked. False when that condition
   * failed (another request won).
   */
  rotateFamily(familyId: string, from: string, rotation: FamilyRotation): Promise<boolean>;
  /** Marks the family revoked (idempotent); every token of it stops working at once. */
  revokeFamily(familyId: string, at: number): Promise<void>;
}

/**
 * DPoP proofs already accepted (RFC 9449 §11.1): a proof is good for one request only. Entries
 * outlive the window in which their proof's `iat` is accepted, then expire.
 */
export interface DpopReplayStore {
  /**
   * Records the proof `proofKey` until `expiresAt` (epoch seconds): true the first time, false when
   * it was recorded before and has not expired at `now` (epoch seconds): a replay.
   */
  claim(proofKey: string, times: { now: number; expiresAt: number }): Promise<boolean>;
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
  /** The cost class (passwords/hash-format.ts) of `passwordHash`; undefined for a malformed one. */
  costClassOf(passwordHash: string): string | undefined;
  /** The cost class of the hashes `hash` makes. */
  readonly currentCostClass: string;
  /**
   * Spends what a real verify of `costClass` (default: the current one) spends and always fails,
   * so that a failed login costs the same time whether the account exists or not, and whichever
   * hash it has. A class the hasher cannot make a hash of spends nothing.
   */
  verifyDummy(password: string, costClass?: string): Promise<false>;
}

/**
 * The counters one login moves, keys already hashed (never a raw IP or username): the
 * consecutive run of one username from one IP, and the IP's failures of one UTC day. Each is one
 * item changed by one conditional single-item write.
 */
export interface LoginCounter {
  readonly key: string;
  /** Tags the counter so all of one user's counters can be found (`users unblock`). */
  readonly userRef: string;
  /** The IP's count of one UTC day; absent for an allowlisted IP, which has no daily limit. */
  readonly ipDay?: IpDayCounter;
}

export interface IpDayCounter {
  readonly key: string;
  /** End of the UTC day (epoch seconds): the count lapses then. */
  readonly endsAt: number;
}

/** What a login reads before any password hashing. */
export interface LoginCounterState {
  /** Consecutive failures, 0 once `failuresUntil` has passed. */
  readonly consecutiveFailures: number;
  /** Attempts the IP holds on its day: failures and those still in flight (0 without `ipDay`). */
  readonly ipFailures: number;
  /** As read: when the consecutive count lapses. */
  readonly failuresUntil?: number;
}

/** One attempt charged before its password is verified (fail closed), and refunded if it was right. */
export interface ChargedAttempt {
  /** Unique per attempt: makes a retried charge or refund apply once. */
  readonly id: string;
  readonly now: number;
  /** The consecutive count lapses (and its item may be swept) at `failuresUntil`. */
  readonly failuresUntil: number;
  /** The realm's limit: a charge lands only while the consecutive run is below it. */
  readonly maxConsecutiveFailures: number;
  /** The tenant's limit: a reservation lands only while the IP's day holds fewer. */
  readonly maxFailuresPerDay: number;
}

/** A charge of the consecutive run: counted, or refused by its limit until the run lapses. */
export type RunCharge =
  | { readonly charged: true }
  | { readonly charged: false /** Epoch seconds: when the run lapses. */; readonly failuresUntil: number };

/** Brute-force counters: every change is one atomic single-item write, applied exactly once. */
export interface AttemptStore {
  /** Both counters, read at once (what operators and tests look at: a login never reads first). */
  read(counter: LoginCounter, now: number): Promise<LoginCounterState>;
  /**
   * Counts `attempt` as a failure on the consecutive run, without reading it first: refused, with
   * nothing written, when the run has reached the attempt's limit. The check and the count are
   * one write, so parallel guesses cannot all pass.
   */
  charge(counter: LoginCounter, attempt: ChargedAttempt): Promise<RunCharge>;
  /**
   * Reserves one of the IP's attempts of the day: false, with nothing written, when the day holds
   * `maxFailuresPerDay` already. The check and the count are one write.
   */
  reserveIpDay(ipDay: IpDayCounter, attempt: ChargedAttempt): Promise<boolean>;
  /**
   * Takes this one charge back, the run going on (the attempt was refused by the IP's daily limit,
   * so no password was checked). A charge not there (the run ended meanwhile) changes nothing.
   */
  withdraw(counter: LoginCounter, attempt: ChargedAttempt): Promise<void>;
  /** The password was right: ends the consecutive run (a charge not there changes nothing). */
  refund(counter: LoginCounter, attempt: ChargedAttempt): Promise<void>;
  /** Gives a reservation back to the IP's day (one not there changes nothing). */
  releaseIpDay(ipDay: IpDayCounter, attempt: ChargedAttempt): Promise<void>;
  /** Ends the consecutive runs on every counter tagged with `userRef` (one Query, one write each). */
  resetUser(userRef: string): Promise<void>;
}

/** What a sign-in that answers with tokens writes once the user proved who they are. */
export interface SignIn {
  readonly user: UserRecord;
  /** ISO 8601: the login's time, its `last_login`. */
  readonly at: string;
  /** Unique per login: a retried write applies once, and `undo` finds this login's count. */
  readonly loginId: string;
  /** The refresh token family, when the answer carries a refresh token. */
  readonly session?: { readonly family: RefreshFamily };
  /** The password grant's charged attempt: the right password ends its consecutive run. */
  readonly refund?: { readonly counter: LoginCounter; readonly attempt: ChargedAttempt };
}

/**
 * A sign-in's writes, all or nothing, in one round trip (a DynamoDB transaction): the login count
 * (`logins_count`, `last_login`), the session and the refund of the consecutive run. The IP's day
 * is given back beside it (AttemptStore.releaseIpDay): one IP's logins share that item, and an
 * item in a transaction turns away other writes while it lasts.
 */
export interface SignInStore {
  /**
   * Writes them once, also when retried after a lost answer. A count for a user deleted meanwhile,
   * and a refund of a run that ended meanwhile, are no-ops, as their single writes would be.
   */
  record(signIn: SignIn): Promise<void>;
  /**
   * Takes back a sign-in whose answer never left (signing or its own write failed): the session
   * goes, the count and `last_login` go back. The run still ends, the password was right: its
   * refund is made if the failed write did not make it. What never landed, or was taken back
   * already, stays as it is.
   */
  undo(signIn: SignIn): Promise<void>;
}

/**
 * A user's one-time-password authenticator (RFC 6238) and recovery code, as Auth0 pairs them. It
 * lives on the user item (one conditional write enrols, activates or uses it); the secret only
 * sealed.
 */
export interface MfaEnrolment {
  readonly authenticator_id: string;
  /** Confirmed by the first accepted code; until then another association replaces it. */
  readonly active: boolean;
  readonly created_at: string;
  /** The TOTP secret, sealed by the SecretSealer for this user and authenticator. */
  readonly sealed_secret: string;
  /** RFC 6238 time step of the last accepted code: that step and earlier ones never pass again. */
  readonly last_step: number;
  /** SHA-256 of the recovery code (a 120-bit random value: a fast hash is enough). */
  readonly recovery_code_hash: string;
}

/** The user's bucket of wrong MFA codes (mfa/guesses.ts): what was left at `at` (epoch ms). */
export interface MfaGuesses {
  readonly left: number;
  readonly at: number;
}

/** What one strongly consistent read of the user item gives the MFA endpoints. */
export interface MfaUserState {
  readonly user: UserRecord;
  readonly enrolment?: MfaEnrolment;
  readonly guesses?: MfaGuesses;
}

/** An `mfa_token`: one login waiting for its second factor, found by the SHA-256 of the token. */
export interface MfaChallenge {
  readonly token_hash: string;
  readonly client_id: string;
  readonly realm: string;
  readonly username_key: string;
  readonly user_id: string;
  /** The user's epoch at the password step: a new password, a block or an MFA reset ends it. */
  readonly session_epoch: number;
  readonly audience: string;
  readonly scope: readonly string[];
  readonly gty: 'password' | 'password-realm';
  /** Epoch ms. */
  readonly created_at: number;
  readonly expires_at: number;
}

/**
 * MFA state: single-item conditional writes, each applied once. `writer` is unique per request:
 * a write whose answer was lost and that the SDK sends again recognises itself and succeeds,
 * rather than failing its own condition.
 */
export interface MfaStore {
  find(realm: string, usernameKey: string): Promise<MfaUserState | undefined>;
  /** Writes a pending enrolment, replacing a pending one; false when the user has an active one or is gone. */
  enrol(user: UserRecord, enrolment: MfaEnrolment): Promise<boolean>;
  /**
   * Accepts a code of `step` for the authenticator: only while it is still `authenticatorId` and
   * `step` is past its last one; activates it, and gives back the guess the code was charged.
   * False when the code was used already (or the authenticator changed).
   */
  acceptCode(user: UserRecord, authenticatorId: string, step: number, writer: string): Promise<boolean>;
  /** Replaces the recovery code while it is still `oldHash`, giving back the guess; false otherwise. */
  replaceRecoveryCode(user: UserRecord, oldHash: string, newHash: string): Promise<boolean>;
  /** Moves the guess bucket from `observed` to `next` only if it is still at `observed`. */
  updateGuesses(
    user: UserRecord,
    observed: MfaGuesses | undefined,
    next: MfaGuesses,
    writer: string,
  ): Promise<boolean>;
  /** Removes the enrolment and ends the user's sessions in one write; UserNotFoundError when absent. */
  reset(realm: string, usernameKey: string, at: string): Promise<UserRecord>;
  putChallenge(challenge: MfaChallenge): Promise<void>;
  findChallenge(tokenHash: string): Promise<MfaChallenge | undefined>;
  /** Marks the challenge spent, after which it is found no more; false when another request spent it. */
  spendChallenge(tokenHash: string, writer: string): Promise<boolean>;
}

/**
 * Symmetric encryption of small secrets (TOTP seeds): KMS on AWS, a key file locally. `context`
 * binds the ciphertext to its owner: opened with another context it fails.
 */
export interface SecretSealer {
  seal(secret: Uint8Array, context: Readonly<Record<string, string>>): Promise<string>;
  open(sealed: string, context: Readonly<Record<string, string>>): Promise<Uint8Array>;
}

/** The mails passgate sends: each has its template in accounts/mail-templates.ts. */
export type MailKind = 'verify-email' | 'signup-notice' | 'reset-password' | 'password-changed';

/** One message to one address, already rendered: the adapter only delivers it. */
export interface MailMessage {
  readonly kind: MailKind;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The one action link the message carries: the local outbox prints it; never logged on AWS. */
  readonly link?: string;
}

/**
 * Sends mail: SES v2 on AWS, an outbox folder locally. Fails with DependencyUnavailableError
 * (503) when the service does; the caller decides what stays written (nothing half-written).
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export type TicketPurpose = 'verify-email' | 'reset-password';

/**
 * A single-use link's ticket, found by the SHA-256 of its value (accounts/tickets.ts): the value
 * itself is only ever in the mail. Bound to one user and one address: a ticket for an address the
 * user no longer has is worth nothing.
 */
export interface TicketRecord {
  readonly token_hash: string;
  readonly purpose: TicketPurpose;
  readonly realm: string;
  readonly user_id: string;
  readonly username_key: string;
  readonly email: string;
  /** Epoch ms. */
  readonly created_at: number;
  /** Epoch ms; the item's TTL attribute (epoch seconds) is written beside it by the store. */
  readonly expires_at: number;
  /** reset-password: a fingerprint of the password hash when issued; the ticket dies when it changes. */
  readonly bound_to?: string;
}

/** Tickets: one conditional single-item write each, every read strongly consistent. */
export interface TicketStore {
  /** Writes a new ticket; a clash with an existing hash is an error (values are 256 random bits). */
  put(ticket: TicketRecord): Promise<void>;
  /** Undefined when absent, spent or expired at `now` (epoch ms). */
  find(tokenHash: string, now: number): Promise<TicketRecord | undefined>;
  /**
   * Spends it, once: true for the one request that spent it (also when that write is retried after
   * its answer was lost), false when another request spent it first or it is gone.
   */
  spend(tokenHash: string): Promise<boolean>;
}

/**
 * Counts requests in fixed windows (sign-ups per IP an hour, reset mails per address an hour):
 * one conditional single-item write per request, which is both the check and the count.
 */
export interface RateLimiter {
  /**
   * Takes one request from the window `key` (a keyed hash, never a raw IP or address) that ends at
   * `window.endsAt` (epoch seconds): false, with nothing written, when it holds `window.limit`
   * already. `window.id` is unique per request, so a retried write counts once.
   */
  take(
    key: string,
    window: { readonly endsAt: number; readonly limit: number; readonly id: string },
  ): Promise<boolean>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
