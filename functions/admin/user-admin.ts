import { z } from 'zod';
import type { RealmConfig, TenantConfig } from '../config/schema.ts';
import {
  AddressClaimRace,
  addressKey,
  claimAddress,
  claimsAddresses,
} from '../oauth/accounts/address-claims.ts';
import { sendVerificationMail, verifiesEmail } from '../oauth/accounts/email-verification.ts';
import { firstSessionEpoch, newUserId } from '../oauth/accounts/user-ids.ts';
import { type Authenticator, authenticatorsOf } from '../oauth/mfa/mfa-api.ts';
import { normalizePassword, usernameKey, usernameProblem } from '../oauth/passwords/normalize.ts';
import { realmPasswordProblem } from '../oauth/passwords/realm-policy.ts';
import {
  type AttemptStore,
  type Clock,
  type PasswordHasher,
  UserExistsError,
  UserNotFoundError,
  type UserRecord,
  type UserStore,
} from '../oauth/ports.ts';
import { userCounterRef } from '../oauth/protection/brute-force.ts';
import { admitCostClasses, estimatedVerifyMs } from '../oauth/protection/hash-cost-budget.ts';
import { parseScope } from '../oauth/scopes.ts';
import type { Services } from '../oauth/services.ts';

/** An operator mistake, said in one line (the CLI prints it and exits non-zero). */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminServices {
  readonly config: TenantConfig;
  readonly users: UserStore;
  readonly attempts: AttemptStore;
  readonly counterHashKey: Uint8Array;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
}

/** Lifts every brute-force block of the user, from every IP. */
function clearBruteForceBlocks(services: AdminServices, user: UserRecord): Promise<void> {
  return services.attempts.resetUser(userCounterRef(services.counterHashKey, user.realm, user.username_key));
}

/** What operators see of a user: Auth0's fields, never the password hash or internal bookkeeping. */
export type PublicUser = Omit<UserRecord, 'password_hash' | 'username_key' | 'session_epoch'>;

export function publicUser(user: UserRecord): PublicUser {
  const { password_hash: _hash, username_key: _key, session_epoch: _epoch, ...visible } = user;
  // Whether the user has a confirmed second factor (docs/mfa.md), false for users who never enrolled.
  return { ...visible, mfa_active: user.mfa_active === true };
}

const emailSchema = z.email();

export function realmOf(config: TenantConfig, name: string): RealmConfig {
  const realm = config.realms.find((candidate) => candidate.name === name);
  if (!realm) {
    throw new AdminError(
      `unknown realm "${name}" (configured: ${config.realms.map((r) => r.name).join(', ')})`,
    );
  }
  return realm;
}

async function hashNewPassword(
  services: AdminServices,
  realm: RealmConfig,
  password: string,
  user: { readonly username?: string; readonly email?: string },
): Promise<string> {
  const problem = await realmPasswordProblem(services.config, realm, password, user);
  if (problem) throw new AdminError(`weak password: ${problem.message} in realm "${realm.name}"`);
  return services.hasher.hash(normalizePassword(password));
}

const now = (services: AdminServices) => new Date(services.clock.now()).toISOString();

function notFound(realm: string, username: string): AdminError {
  return new AdminError(`no user "${username}" in realm "${realm}"`);
}

async function existing(services: AdminServices, realm: string, username: string): Promise<UserRecord> {
  realmOf(services.config, realm);
  const user = await services.users.findByUsername(realm, usernameKey(username));
  if (!user) throw notFound(realm, username);
  return user;
}

/** Runs a store update, turning "no such user" into the operator's message. */
async function onExisting(
  realm: string,
  username: string,
  update: () => Promise<UserRecord>,
): Promise<UserRecord> {
  try {
    return await update();
  } catch (error) {
    if (error instanceof UserNotFoundError) throw notFound(realm, username);
    throw error;
  }
}

export async function createUser(
  services: AdminServices,
  input: { realm: string; username: string; password: string; email?: string; name?: string },
): Promise<UserRecord> {
  const realm = realmOf(services.config, input.realm);
  const problem = usernameProblem(input.username);
  if (problem) throw new AdminError(problem);
  if (input.email !== undefined && !emailSchema.safeParse(input.email).success) {
    throw new AdminError(`invalid email "${input.email}"`);
  }
  const passwordHash = await hashNewPassword(services, realm, input.password, input);
  const userId = newUserId();
  const claim = await claimUsersAddress(services, realm, input.email, userId);
  try {
    return await services.users.create({
      realm: realm.name,
      user_id: userId,
      session_epoch: firstSessionEpoch(),
      username: input.username.normalize('NFKC'),
      username_key: usernameKey(input.username),
      email: input.email,
      email_verified: false,
      name: input.name,
      blocked: false,
      created_at: now(services),
      password_hash: passwordHash,
      permissions: {},
    });
  } catch (error) {
    await claim?.release().catch(() => undefined); // a claim left behind is taken over later
    if (error instanceof UserExistsError) {
      throw new AdminError(`user "${input.username}" already exists in realm "${realm.name}"`);
    }
    throw error;
  }
}

/**
 * Where users pick usernames, a new user's address is claimed for it as at a sign-up, so that
 * password reset finds the user and no second account takes the address (address-claims.ts).
 * Another live user holding it is an operator mistake, named.
 */
async function claimUsersAddress(
  services: AdminServices,
  realm: RealmConfig,
  email: string | undefined,
  userId: string,
): Promise<{ release(): Promise<void> } | undefined> {
  if (email === undefined || !claimsAddresses(realm)) return undefined;
  const key = addressKey(email);
  const holder = await claimAddress(services.users, realm.name, key, userId).catch((error: unknown) => {
    throw error instanceof AddressClaimRace
      ? new AdminError(`${error.message}; run the command again`)
      : error;
  });
  if (holder) {
    throw new AdminError(`email "${email}" belongs to user "${holder.username}" in realm "${realm.name}"`);
  }
  return { release: () => services.users.releaseEmail(realm.name, key, userId) };
}

export const getUser = (services: AdminServices, realm: string, username: string) =>
  existing(services, realm, username);

/** A new password ends every refresh token of the user, in the same write (UserStore.setPassword). */
export async function setPassword(
  services: AdminServices,
  realmName: string,
  username: string,
  password: string,
): Promise<UserRecord> {
  const realm = realmOf(services.config, realmName);
  const current = await existing(services, realmName, username);
  const passwordHash = await hashNewPassword(services, realm, password, current);
  const user = await onExisting(realmName, username, () =>
    services.users.setPassword(realm.name, usernameKey(username), passwordHash, now(services)),
  );
  // A new password lifts brute-force blocks: the guessing it stopped is now moot.
  await clearBruteForceBlocks(services, user);
  return user;
}

/**
 * Blocking ends every refresh token of the user in the same write; unblocking does not revive them,
 * and lifts the user's brute-force blocks.
 */
export async function setBlocked(services: AdminServices, realm: string, username: string, blocked: boolean) {
  realmOf(services.config, realm);
  const user = await onExisting(realm, username, () =>
    services.users.setBlocked(realm, usernameKey(username), blocked, now(services)),
  );
  if (!blocked) await clearBruteForceBlocks(services, user);
  return user;
}

/**
 * Deleting ends every refresh token of the user: a refresh re-reads the user and finds nobody, or a
 * new user of the same name with another `user_id`.
 */
export function deleteUser(services: AdminServices, realm: string, username: string) {
  realmOf(services.config, realm);
  return onExisting(realm, username, () => services.users.delete(realm, usernameKey(username)));
}

export async function listUsers(services: AdminServices, realm: string): Promise<UserRecord[]> {
  realmOf(services.config, realm);
  const users: UserRecord[] = [];
  for await (const user of services.users.list(realm)) users.push(user);
  return users.sort((a, b) => a.username_key.localeCompare(b.username_key));
}

/** Sets the user's permissions on an API that enforces them; only scopes the API defines. */
export function grantPermissions(
  services: AdminServices,
  realm: string,
  username: string,
  apiIdentifier: string,
  scopes: string,
) {
  realmOf(services.config, realm);
  const api = services.config.apis.find((candidate) => candidate.identifier === apiIdentifier);
  if (!api) throw new AdminError(`unknown API "${apiIdentifier}"`);
  let requested: string[];
  try {
    requested = parseScope(scopes);
  } catch {
    throw new AdminError('--scopes must be a space-separated list of scopes');
  }
  const unknown = requested.filter((scope) => !api.scopes.includes(scope));
  if (unknown.length > 0)
    throw new AdminError(`API "${api.identifier}" defines no scope ${unknown.join(', ')}`);
  return onExisting(realm, username, () =>
    services.users.setPermissions(realm, usernameKey(username), api.identifier, requested, now(services)),
  );
}

/** One cost class of a realm (see UserStore.hashCostClasses) and how many of its users have it. */
export interface HashClassUse {
  readonly costClass: string;
  readonly users: number;
  /** Recorded for the realm: every failed login in it spends one verify of this class. */
  readonly recorded: boolean;
  /** The class of new hashes, which every failed login spends anyway. */
  readonly current: boolean;
  /** One verify's estimated time on one core (oauth/protection/hash-cost-budget.ts); absent for no class. */
  readonly estimatedMs?: number;
}

export interface HashClassesReport {
  readonly classes: readonly HashClassUse[];
  /** Classes users have that were not recorded, recorded now. */
  readonly recordedNow: readonly string[];
  /** Classes users have that the failed-login budget has no room for: those users' tell. */
  readonly overBudget: readonly string[];
  /** With prune: recorded classes no user has any more, or that are no class, forgotten now. */
  readonly forgotten: readonly string[];
}

/**
 * `users hash-classes`: the realm's users counted per hash cost class, over a Scan of the users
 * table. Classes users have that are not recorded yet (users imported by a release that did not
 * record classes, or argon2id from before a parameter change) are recorded now, within the
 * failed-login budget, cheapest first; those past it are reported, since those users' wrong
 * passwords still take longer than an unknown username's until they set a new password. With
 * `prune`, recorded classes that no user has any more are forgotten first, so failed logins stop
 * spending them. Pruning during an import of such hashes can forget a class a moment before its
 * users land; the first failed login of one of them records it again.
 */
export async function hashClasses(
  services: AdminServices,
  realm: string,
  prune: boolean,
): Promise<HashClassesReport> {
  realmOf(services.config, realm);
  const { users, hasher } = services;
  const counts = new Map<string, number>();
  for await (const user of users.list(realm)) {
    const costClass = hasher.costClassOf(user.password_hash) ?? 'malformed';
    counts.set(costClass, (counts.get(costClass) ?? 0) + 1);
  }
  const unused = (costClass: string) => !counts.has(costClass) || estimatedVerifyMs(costClass) === undefined;
  const forgotten = prune ? (await users.hashCostClasses(realm)).classes.filter(unused).sort() : [];
  await users.removeHashCostClasses(realm, forgotten);
  const found = [...counts.keys()].filter((costClass) => costClass !== 'malformed');
  for (let round = 0; round < 10; round++) {
    const recorded = await users.hashCostClasses(realm);
    const { admitted, refused } = admitCostClasses(hasher.currentCostClass, recorded.classes, found);
    if (!(await users.addHashCostClasses(realm, admitted, recorded.version))) continue;
    const listed = new Set([...counts.keys(), ...recorded.classes, ...forgotten]);
    const classes = [...listed].sort().map((costClass) => ({
      costClass,
      users: counts.get(costClass) ?? 0,
      recorded: recorded.classes.includes(costClass) || admitted.includes(costClass),
      current: costClass === hasher.currentCostClass,
      estimatedMs: estimatedVerifyMs(costClass),
    }));
    return { classes, recordedNow: [...admitted].sort(), overBudget: [...refused.keys()].sort(), forgotten };
  }
  throw new AdminError(
    `the hash classes of realm "${realm}" kept changing while they were recorded: run it again`,
  );
}

/** The operator's view of a user's MFA: the authenticators as `GET mfa/authenticators` lists them. */
export async function listMfa(
  services: AdminServices & Pick<Services, 'mfa'>,
  realm: string,
  username: string,
): Promise<{ user: UserRecord; authenticators: Authenticator[] }> {
  realmOf(services.config, realm);
  const state = await services.mfa.find(realm, usernameKey(username));
  if (!state) throw notFound(realm, username);
  return { user: state.user, authenticators: authenticatorsOf(state.enrolment) };
}

/**
 * Removes the user's authenticator and recovery code and ends their sessions, in one write: a user
 * who lost their phone enrols again at their next login (policy `required`), or logs in with the
 * password alone (`enrolled`).
 */
export function resetMfa(services: AdminServices & Pick<Services, 'mfa'>, realm: string, username: string) {
  realmOf(services.config, realm);
  return onExisting(realm, username, () => services.mfa.reset(realm, usernameKey(username), now(services)));
}

/** `users verify-email`: the operator vouches for the user's current address. */
export async function verifyEmail(
  services: AdminServices,
  realm: string,
  username: string,
): Promise<UserRecord> {
  const user = await existing(services, realm, username);
  if (user.email === undefined) throw new AdminError(`user "${username}" has no email address`);
  const at = now(services);
  if (!(await services.users.setEmailVerified(user, user.email, at))) {
    throw new AdminError(`user "${username}" changed while it was verified: run it again`);
  }
  return { ...user, email_verified: true, updated_at: at };
}

/**
 * `users resend-verification`: a new verification link to the user's current address (a ticket
 * sent before stays good until it expires). `issuer` is the base of the link: the deployment's.
 */
export async function resendVerification(
  services: AdminServices & Pick<Services, 'tickets' | 'mailer'>,
  realmName: string,
  username: string,
  issuer: string,
): Promise<UserRecord> {
  const realm = realmOf(services.config, realmName);
  if (!verifiesEmail(realm)) {
    throw new AdminError(`realm "${realm.name}" does not verify addresses (emailVerification "off")`);
  }
  const user = await existing(services, realm.name, username);
  if (user.email === undefined) throw new AdminError(`user "${username}" has no email address`);
  if (user.email_verified) throw new AdminError(`the address of user "${username}" is verified already`);
  await sendVerificationMail(services, user, issuer);
  return user;
}
