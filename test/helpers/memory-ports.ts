import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSealer } from '../../functions/adapters/sealing/local-sealer.ts';
import { LocalSigner } from '../../functions/adapters/signing/local-signer.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { silentLogger } from '../../functions/logging.ts';
import { memoryReplayStore } from '../../functions/oauth/dpop/resource-server.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import type {
  AttemptStore,
  ChargedAttempt,
  Clock,
  FamilyRotation,
  IpDayCounter,
  LoginCounter,
  LoginLookup,
  Mailer,
  MailMessage,
  MfaStore,
  NewUser,
  PasswordHasher,
  RateLimiter,
  RefreshFamily,
  RefreshTokenRecord,
  RefreshTokenStore,
  RunCharge,
  SignIn,
  SignInStore,
  TicketRecord,
  TicketStore,
  UserRecord,
  UserStore,
} from '../../functions/oauth/ports.ts';
import { UserExistsError, UserNotFoundError } from '../../functions/oauth/ports.ts';
import type { RequestInfo, Services } from '../../functions/oauth/services.ts';
import { testConfig } from './config.ts';

/** A clock the test moves by hand. */
export class FixedClock implements Clock {
  constructor(private ms = Date.UTC(2030, 0, 1)) {}
  now() {
    return this.ms;
  }
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
  set(iso: string) {
    this.ms = Date.parse(iso);
  }
}

/** Lets other promises run between two store calls, as a network round trip would. */
const roundTrip = () => new Promise<void>((resolve) => setImmediate(resolve));

export class MemoryUserStore implements UserStore {
  readonly users = new Map<string, UserRecord>();
  private key = (realm: string, usernameKey: string) => `${realm}#${usernameKey}`;

  async findByUsername(realm: string, usernameKey: string) {
    await roundTrip();
    return this.stored(realm, usernameKey);
  }
  /** The user under that key now, without a round trip: for a read another store makes. */
  stored(realm: string, usernameKey: string) {
    return this.users.get(this.key(realm, usernameKey));
  }
  async findForLogin(realm: string, usernameKey: string | undefined): Promise<LoginLookup> {
    await roundTrip();
    const stored = this.costClasses.get(realm);
    return {
      user: usernameKey === undefined ? undefined : this.users.get(this.key(realm, usernameKey)),
      costClasses: { classes: [...(stored?.classes ?? [])], version: stored?.version ?? 0 },
    };
  }
  async findById(realm: string, userId: string) {
    await roundTrip();
    return [...this.users.values()].find((user) => user.realm === realm && user.user_id === userId);
  }
  async create(user: NewUser) {
    const key = this.key(user.realm, user.username_key);
    if (this.users.has(key)) throw new UserExistsError();
    const record: UserRecord = { ...user, updated_at: user.created_at, logins_count: 0 };
    this.users.set(key, record);
    return record;
  }
  async upsert(user: NewUser) {
    const key = this.key(user.realm, user.username_key);
    const stored = this.users.get(key);
    if (stored && stored.user_id !== user.user_id) throw new UserExistsError();
    this.users.set(key, {
      ...user,
      created_at: stored?.created_at ?? user.created_at,
      updated_at: user.created_at,
      logins_count: stored?.logins_count ?? 0,
      permissions: stored?.permissions ?? user.permissions,
      session_epoch: (stored ? (stored.session_epoch ?? 0) : user.session_epoch) + 1,
    });
    return stored ? ('updated' as const) : ('created' as const);
  }
  async upgradePasswordHash(user: UserRecord, oldHash: string, newHash: string) {
    const key = this.key(user.realm, user.username_key);
    const stored = this.users.get(key);
    if (stored?.user_id !== user.user_id || stored.password_hash !== oldHash) return false;
    this.users.set(key, { ...stored, password_hash: newHash });
    return true;
  }
  /** Ids of the logins counted (and not forgotten since). */
  private readonly counted = new Set<string>();
  /** MemorySignInStore's count: a no-op for a user deleted or re-created meanwhile. */
  countLogin(user: UserRecord, at: string, loginId: string) {
    const stored = this.users.get(this.key(user.realm, user.username_key));
    if (stored?.user_id !== user.user_id || this.counted.has(loginId)) return;
    this.counted.add(loginId);
    this.users.set(this.key(user.realm, user.username_key), {
      ...stored,
      last_login: at,
      logins_count: stored.logins_count + 1,
    });
  }
  forgetLogin(user: UserRecord, loginId: string, previous: string | undefined) {
    const stored = this.users.get(this.key(user.realm, user.username_key));
    if (stored?.user_id !== user.user_id || !this.counted.delete(loginId)) return;
    const { last_login: _ours, ...rest } = stored;
    this.users.set(this.key(user.realm, user.username_key), {
      ...rest,
      ...(previous === undefined ? {} : { last_login: previous }),
      logins_count: stored.logins_count - 1,
    });
  }
  private update(realm: string, usernameKey: string, change: (user: UserRecord) => UserRecord) {
    const user = this.users.get(this.key(realm, usernameKey));
    if (!user) throw new UserNotFoundError();
    const updated = change(user);
    this.users.set(this.key(realm, usernameKey), updated);
    return Promise.resolve(updated);
  }
  setPassword(realm: string, usernameKey: string, passwordHash: string, at: string) {
    return this.update(realm, usernameKey, (user) => ({
      ...user,
      password_hash: passwordHash,
      updated_at: at,
      session_epoch: (user.session_epoch ?? 0) + 1,
    }));
  }
  async resetPassword(
    user: Pick<UserRecord, 'realm' | 'username_key' | 'user_id'>,
    expected: { readonly passwordHash: string; readonly email: string },
    newHash: string,
    at: string,
  ) {
    const stored = this.users.get(this.key(user.realm, user.username_key));
    if (
      !stored ||
      stored.user_id !== user.user_id ||
      stored.email !== expected.email ||
      (stored.password_hash !== expected.passwordHash && stored.password_hash !== newHash)
    )
      return false;
    this.users.set(this.key(user.realm, user.username_key), {
      ...stored,
      password_hash: newHash,
      email_verified: true,
      updated_at: at,
      session_epoch: (stored.session_epoch ?? 0) + 1,
    });
    return true;
  }
  setBlocked(realm: string, usernameKey: string, blocked: boolean, at: string) {
    return this.update(realm, usernameKey, (user) => ({
      ...user,
      blocked,
      updated_at: at,
      session_epoch: (user.session_epoch ?? 0) + 1,
    }));
  }
  readonly emailClaims = new Map<string, string>();
  async claimEmail(realm: string, emailKey: string, userId: string, previous?: string) {
    const key = `${realm}#${emailKey}`;
    const holder = this.emailClaims.get(key);
    if (holder === undefined ? previous === undefined : holder === previous || holder === userId) {
      this.emailClaims.set(key, userId);
      return undefined;
    }
    return holder ?? '';
  }
  async emailHolder(realm: string, emailKey: string) {
    return this.emailClaims.get(`${realm}#${emailKey}`);
  }
  async releaseEmail(realm: string, emailKey: string, userId: string) {
    if (this.emailClaims.get(`${realm}#${emailKey}`) === userId)
      this.emailClaims.delete(`${realm}#${emailKey}`);
  }
  async setEmailVerified(
    user: Pick<UserRecord, 'realm' | 'username_key' | 'user_id'>,
    email: string,
    at: string,
  ) {
    const stored = this.users.get(this.key(user.realm, user.username_key));
    if (!stored || stored.user_id !== user.user_id || stored.email !== email) return false;
    this.users.set(this.key(user.realm, user.username_key), {
      ...stored,
      email_verified: true,
      updated_at: at,
    });
    return true;
  }
  setPermissions(realm: string, usernameKey: string, api: string, scopes: readonly string[], at: string) {
    return this.update(realm, usernameKey, (user) => ({
      ...user,
      permissions: { ...user.permissions, [api]: [...scopes] },
      updated_at: at,
    }));
  }
  async delete(realm: string, usernameKey: string, userId?: string) {
    const user = this.users.get(this.key(realm, usernameKey));
    if (!user || (userId !== undefined && user.user_id !== userId)) throw new UserNotFoundError();
    this.users.delete(this.key(realm, usernameKey));
    return user;
  }
  async *list(realm: string) {
    yield* [...this.users.values()].filter((user) => user.realm === realm);
  }
  readonly costClasses = new Map<string, { classes: Set<string>; version: number }>();
  async hashCostClasses(realm: string) {
    await roundTrip();
    const stored = this.costClasses.get(realm);
    return { classes: [...(stored?.classes ?? [])], version: stored?.version ?? 0 };
  }
  async addHashCostClasses(realm: string, classes: readonly string[], version: number) {
    await roundTrip();
    const stored = this.costClasses.get(realm) ?? { classes: new Set<string>(), version: 0 };
    if (classes.length === 0) return true;
    if (stored.version !== version) return false;
    this.costClasses.set(realm, { classes: new Set([...stored.classes, ...classes]), version: version + 1 });
    return true;
  }
  async removeHashCostClasses(realm: string, classes: readonly string[]) {
    await roundTrip();
    const stored = this.costClasses.get(realm);
    if (!stored || classes.length === 0) return;
    for (const costClass of classes) stored.classes.delete(costClass);
    stored.version += 1;
  }
}

/**
 * The refresh token store with DynamoDB's single-item semantics: each call is atomic, and other
 * requests may run between two calls. `fail` injects a dependency failure before an operation.
 */
export class MemoryRefreshTokenStore implements RefreshTokenStore {
  readonly tokens = new Map<string, RefreshTokenRecord>();
  readonly families = new Map<string, RefreshFamily>();
  fail: (operation: keyof RefreshTokenStore) => Error | undefined = () => undefined;

  /** `users`: the users' store findFamilyAndUser reads beside a family, as the tables sit side by side. */
  constructor(private readonly users: MemoryUserStore) {}

  private async enter(operation: keyof RefreshTokenStore) {
    await roundTrip();
    const error = this.fail(operation);
    if (error) throw error;
  }
  async findToken(tokenHash: string) {
    await this.enter('findToken');
    return this.tokens.get(tokenHash);
  }
  async findFamily(familyId: string) {
    await this.enter('findFamily');
    return this.families.get(familyId);
  }
  async findFamilyAndUser(familyId: string, user: { realm: string; username_key: string }) {
    await this.enter('findFamilyAndUser');
    return { family: this.families.get(familyId), user: this.users.stored(user.realm, user.username_key) };
  }
  async rotateFamily(familyId: string, from: string, rotation: FamilyRotation) {
    await this.enter('rotateFamily');
    const family = this.families.get(familyId);
    if (!family || family.current !== from || family.revoked) return false;
    // As in DynamoDB: every field of the rotation is set, the absent ones removed.
    const { idle_expires_at, secret_hash, previous, rotated_at, successor_seal, ...kept } = family;
    this.families.set(familyId, {
      ...kept,
      ...Object.fromEntries(Object.entries(rotation).filter(([, value]) => value !== undefined)),
    } as RefreshFamily);
    return true;
  }
  async revokeFamily(familyId: string, at: number) {
    await this.enter('revokeFamily');
    const family = this.families.get(familyId);
    if (family)
      this.families.set(familyId, { ...family, revoked: true, revoked_at: family.revoked_at ?? at });
  }
}

/** A sign-in's writes over the memory stores, all at once, as the DynamoDB transaction writes them. */
export class MemorySignInStore implements SignInStore {
  constructor(
    private readonly users: MemoryUserStore,
    private readonly refreshTokens: MemoryRefreshTokenStore,
    private readonly attempts: MemoryAttemptStore,
  ) {}
  async record(signIn: SignIn) {
    await roundTrip();
    const { session, refund } = signIn;
    if (session && this.refreshTokens.families.has(session.family.family_id))
      throw new Error('session exists');
    this.users.countLogin(signIn.user, signIn.at, signIn.loginId);
    if (session) this.refreshTokens.families.set(session.family.family_id, session.family);
    if (refund) this.attempts.endRun(refund.counter, refund.attempt);
  }
  async undo(signIn: SignIn) {
    await roundTrip();
    const { session } = signIn;
    if (session) this.refreshTokens.families.delete(session.family.family_id);
    this.users.forgetLogin(signIn.user, signIn.loginId, signIn.user.last_login);
    if (signIn.refund) this.attempts.endRun(signIn.refund.counter, signIn.refund.attempt);
  }
}

interface MemoryRun {
  failures: number;
  failuresUntil: number;
  userRef: string;
  charges: Set<string>;
}

/** In-memory brute-force counters with the same rules as the DynamoDB store. */
export class MemoryAttemptStore implements AttemptStore {
  readonly counters = new Map<string, MemoryRun>();
  /** IP-day key → ids of the attempts it holds. */
  readonly ipDays = new Map<string, Set<string>>();
  async read(counter: LoginCounter, now: number) {
    const item = this.counters.get(counter.key);
    return {
      consecutiveFailures: item && item.failuresUntil > now ? item.failures : 0,
      ipFailures: counter.ipDay === undefined ? 0 : (this.ipDays.get(counter.ipDay.key)?.size ?? 0),
      failuresUntil: item?.failuresUntil,
    };
  }
  async charge(counter: LoginCounter, attempt: ChargedAttempt): Promise<RunCharge> {
    const item = this.counters.get(counter.key);
    const live = item !== undefined && item.failuresUntil > attempt.now;
    if (item?.charges.has(attempt.id)) return { charged: true };
    if (live && item.failures >= attempt.maxConsecutiveFailures) {
      return { charged: false, failuresUntil: item.failuresUntil };
    }
    this.counters.set(counter.key, {
      failures: (live ? item.failures : 0) + 1,
      failuresUntil: attempt.failuresUntil,
      userRef: counter.userRef,
      charges: new Set([...(live ? item.charges : []), attempt.id]),
    });
    return { charged: true } as const;
  }
  async withdraw(counter: LoginCounter, attempt: ChargedAttempt) {
    const item = this.counters.get(counter.key);
    if (item?.charges.delete(attempt.id)) item.failures -= 1;
  }
  async refund(counter: LoginCounter, attempt: ChargedAttempt) {
    this.endRun(counter, attempt);
  }
  endRun(counter: LoginCounter, attempt: ChargedAttempt) {
    const item = this.counters.get(counter.key);
    if (!item?.charges.has(attempt.id)) return;
    item.charges.clear(); // the run is over, its attempt ids with it
    item.failures = 0;
  }
  async reserveIpDay(ipDay: IpDayCounter, attempt: ChargedAttempt) {
    const held = this.ipDays.get(ipDay.key) ?? new Set<string>();
    if (held.has(attempt.id)) return true;
    if (held.size >= attempt.maxFailuresPerDay) return false;
    this.ipDays.set(ipDay.key, held.add(attempt.id));
    return true;
  }
  async releaseIpDay(ipDay: IpDayCounter, attempt: ChargedAttempt) {
    this.ipDays.get(ipDay.key)?.delete(attempt.id);
  }
  async resetUser(userRef: string) {
    for (const counter of this.counters.values()) if (counter.userRef === userRef) counter.failures = 0;
  }
}

/**
 * A transparent hasher that records every call, for unit tests. It makes "plain:<password>";
 * "<class>:<password>" stands for a hash of another cost class (an imported one, say), and each
 * call on another class is recorded with its name.
 */
export class RecordingHasher implements PasswordHasher {
  readonly calls: string[] = [];
  readonly currentCostClass = 'plain';
  async hash(password: string) {
    this.calls.push('hash');
    return `plain:${password}`;
  }
  async verify(passwordHash: string, password: string) {
    const costClass = this.costClassOf(passwordHash);
    this.calls.push(costClass === 'plain' ? 'verify' : `verify ${costClass}`);
    return passwordHash === `${costClass}:${password}`;
  }
  needsRehash(_passwordHash: string) {
    return false;
  }
  costClassOf(passwordHash: string) {
    return passwordHash.split(':')[0];
  }
  async verifyDummy(_password: string, costClass = 'plain'): Promise<false> {
    this.calls.push(costClass === 'plain' ? 'verifyDummy' : `verifyDummy ${costClass}`);
    return false;
  }
}

/** The unit tests' realms have MFA off, so no call reaches MFA state: one that does fails the test. */
export const unreachableMfaStore = new Proxy({} as MfaStore, {
  get: (_target, name) => async () => {
    throw new Error(`a unit test reached MfaStore.${String(name)}: test MFA on a real engine`);
  },
});

/** In-memory tickets with the same rules as the DynamoDB store. */
export class MemoryTicketStore implements TicketStore {
  readonly tickets = new Map<string, TicketRecord & { spent?: boolean }>();
  async put(ticket: TicketRecord) {
    if (this.tickets.has(ticket.token_hash)) throw new Error('ticket hash clash');
    this.tickets.set(ticket.token_hash, { ...ticket });
  }
  async find(tokenHash: string, now: number) {
    const ticket = this.tickets.get(tokenHash);
    if (!ticket || ticket.spent || ticket.expires_at <= now) return undefined;
    const { spent: _spent, ...record } = ticket;
    return record;
  }
  async spend(tokenHash: string) {
    const ticket = this.tickets.get(tokenHash);
    if (!ticket || ticket.spent) return false;
    ticket.spent = true;
    return true;
  }
}

/** In-memory fixed windows: key and window end → ids taken. */
export class MemoryRateLimiter implements RateLimiter {
  readonly windows = new Map<string, Set<string>>();
  async take(key: string, window: { endsAt: number; limit: number; id: string }) {
    const ids = this.windows.get(`${key}#${window.endsAt}`) ?? new Set<string>();
    this.windows.set(`${key}#${window.endsAt}`, ids);
    if (ids.size >= window.limit) return false;
    ids.add(window.id);
    return true;
  }
}

/** Keeps every message; `failNext` makes the next sends fail like SES being down. */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  failNext = 0;
  async send(message: MailMessage) {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new DependencyUnavailableError('ses', 'SendEmail', new Error('injected'));
    }
    this.sent.push(message);
  }
}

/** Services for unit tests: memory stores, recording hasher, a real local RSA signer, fixed clock. */
export async function memoryServices(overrides: Partial<Services> = {}) {
  const users = new MemoryUserStore();
  const refreshTokens = new MemoryRefreshTokenStore(users);
  const attempts = new MemoryAttemptStore();
  const hasher = new RecordingHasher();
  const clock = new FixedClock(Date.parse('2026-11-26T12:00:00.000Z'));
  const signer = await LocalSigner.fromDataDir(mkdtempSync(join(tmpdir(), 'passgate-unit-')));
  const services: Services = {
    config: parseConfig(testConfig()),
    users,
    refreshTokens,
    attempts,
    signIns: new MemorySignInStore(users, refreshTokens, attempts),
    dpopProofs: memoryReplayStore(),
    counterHashKey: Buffer.alloc(32, 7),
    hasher,
    mfa: unreachableMfaStore,
    sealer: new LocalSealer(Buffer.alloc(32, 5)),
    signer,
    mailer: new RecordingMailer(),
    tickets: new MemoryTicketStore(),
    limiter: new MemoryRateLimiter(),
    clock,
    logger: silentLogger,
    issuer: 'https://auth.example.com/',
    ...overrides,
  };
  return { services, users, refreshTokens, attempts, hasher, clock, signer };
}

/** The public mobile client's credentials as the HTTP layer reads them. */
export const publicClient = { clientId: 'mobile-app', clientSecret: undefined, method: 'none' } as const;

/** What the HTTP layer would report for a request from a mobile app, for protocol-layer tests. */
export const requestInfo = (overrides: Partial<RequestInfo> = {}): RequestInfo => ({
  issuer: 'https://auth.example.com/',
  requestId: 'r',
  sourceIp: '198.51.100.7',
  userAgent: undefined,
  forwardedFor: undefined,
  ...overrides,
});
