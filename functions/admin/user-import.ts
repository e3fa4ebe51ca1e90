import { availableParallelism } from 'node:os';
import { defaults } from '../config/defaults.ts';
import { addressKey, claimAddress, claimsAddresses } from '../oauth/accounts/address-claims.ts';
import { firstSessionEpoch, newUserId } from '../oauth/accounts/user-ids.ts';
import { DependencyUnavailableError } from '../oauth/errors.ts';
import { normalizePassword } from '../oauth/passwords/normalize.ts';
import { type NewUser, type PasswordHasher, UserExistsError, type UserRecord } from '../oauth/ports.ts';
import { admitCostClasses } from '../oauth/protection/hash-cost-budget.ts';
import {
  type ImportCandidate,
  type ImportRow,
  isRejection,
  type Rejection,
  readImportRow,
} from './auth0-user-format.ts';
import { type AdminServices, realmOf } from './user-admin.ts';

/**
 * `passgate users import`: Auth0 bulk-import rows into one realm, many users in flight at once.
 * Pure over the ports, so the local CLI and a `--stack` CLI run the same code.
 *
 * Each user is one conditional write (`create`: only where the username is free), so rerunning a
 * file never duplicates a user nor overwrites one who changed their password since; `upsert`
 * overwrites on purpose. Plain passwords are hashed to argon2id; hashes are kept as they are
 * and upgraded at the user's next login.
 */

export interface RetryPolicy {
  /** Tries per store call, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Full-jitter exponential backoff (the AWS SDKs' choice): ~13 s of patience per call in all. */
export const defaultRetry: RetryPolicy = { attempts: 8, baseDelayMs: 50, maxDelayMs: 5_000 };

export interface ImportOptions {
  readonly realm: string;
  readonly rows: readonly ImportRow[];
  /** Overwrite users that exist (same username and user_id) instead of skipping them. */
  readonly upsert?: boolean;
  /** Users in flight at once (store calls and hashing); default 32. */
  readonly concurrency?: number;
  /** Plain passwords hashed at once; default one per core. */
  readonly hashConcurrency?: number;
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Called after every row. */
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportCounts {
  /** Created. */
  readonly imported: number;
  /** Overwritten with --upsert. */
  readonly updated: number;
  /** Already present (same username), left as they are. */
  readonly skipped: number;
  readonly rejected: number;
  /** The store stayed unavailable through every retry: rerun the file for these. */
  readonly failed: number;
}

export interface ImportProgress extends ImportCounts {
  readonly done: number;
  readonly total: number;
}

export interface ImportFailure {
  readonly row: number;
  readonly username: string;
  readonly reason: string;
}

export interface ImportReport extends ImportProgress {
  readonly realm: string;
  readonly upsert: boolean;
  readonly seconds: number;
  readonly rejections: readonly Rejection[];
  readonly failures: readonly ImportFailure[];
  /**
   * The cost classes of the file's hashes other than argon2id's current one, recorded for the
   * realm: every failed login in it spends one verify of each (see oauth/passwords/login.ts).
   */
  readonly hashCostClasses: readonly string[];
  /**
   * Users written with a password hash: the password policy could not screen their passwords,
   * which it screens at their next change (passwords/policy.ts).
   */
  readonly unscreened: number;
}

type Outcome = 'imported' | 'updated' | 'skipped' | Rejection;

/** At most `limit` calls of `run` at once. */
function limiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Checks every row on its own, then across rows: the first row with a username or user_id wins. */
function triage(rows: readonly ImportRow[], options: ImportOptions, services: AdminServices) {
  const realm = realmOf(services.config, options.realm);
  const candidates: ImportCandidate[] = [];
  const rejections: Rejection[] = [];
  const byUsername = new Map<string, number>();
  const byUserId = new Map<string, number>();
  // Where addresses are claimed (address-claims.ts), one address is one user's.
  const byAddress = new Map<string, number>();
  for (const row of rows) {
    const result = readImportRow(row, realm);
    if (isRejection(result)) {
      rejections.push(result);
      continue;
    }
    const sameName = byUsername.get(result.usernameKey);
    const sameId = result.userId === undefined ? undefined : byUserId.get(result.userId);
    const address =
      claimsAddresses(realm) && result.email !== undefined ? addressKey(result.email) : undefined;
    const sameAddress = address === undefined ? undefined : byAddress.get(address);
    if (sameName !== undefined || sameId !== undefined || sameAddress !== undefined) {
      rejections.push({
        row: result.row,
        code: 'duplicate_in_file',
        reason:
          sameName !== undefined
            ? `duplicate in the file: username "${result.username}" is also on row ${sameName}`
            : sameId !== undefined
              ? `duplicate in the file: user_id "${result.userId}" is also on row ${sameId}`
              : `duplicate in the file: email "${result.email}" is also on row ${sameAddress}`,
        username: result.username,
      });
      continue;
    }
    byUsername.set(result.usernameKey, result.row);
    if (result.userId !== undefined) byUserId.set(result.userId, result.row);
    if (address !== undefined) byAddress.set(address, result.row);
    candidates.push(result);
  }
  return { candidates, rejections };
}

export async function importUsers(services: AdminServices, options: ImportOptions): Promise<ImportReport> {
  const started = services.clock.now();
  const realm = options.realm;
  const claimsRealmAddresses = claimsAddresses(realmOf(services.config, realm));
  const upsert = options.upsert ?? false;
  const retryPolicy = options.retry ?? defaultRetry;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const hashSlot = limiter(options.hashConcurrency ?? availableParallelism());
  const triaged = triage(options.rows, options, services);
  const { rejections } = triaged;

  /** Retries what DynamoDB refused for being busy or unreachable; `attempt` counts from 1. */
  async function retrying<T>(call: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(attempt);
      } catch (error) {
        if (!(error instanceof DependencyUnavailableError) || attempt >= retryPolicy.attempts) throw error;
        const ceiling = Math.min(retryPolicy.maxDelayMs, retryPolicy.baseDelayMs * 2 ** (attempt - 1));
        await sleep(random() * ceiling);
      }
    }
  }

  // Recorded before the first user is written, so that from then on a wrong password of an
  // imported user takes no longer than one for an account that does not exist.
  const kept = keptHashClasses(triaged.candidates, services.hasher);
  const { hashCostClasses, tooSlow } = await recordHashClasses(services, realm, kept, retrying);
  const candidates: ImportCandidate[] = [];
  for (const candidate of triaged.candidates) {
    const costClass =
      candidate.secret.kind === 'hash' ? services.hasher.costClassOf(candidate.secret.hash) : undefined;
    const reason = costClass === undefined ? undefined : tooSlow.get(costClass);
    if (reason === undefined) candidates.push(candidate);
    else rejections.push({ row: candidate.row, code: 'slow_hash', reason, username: candidate.username });
  }
  const failures: ImportFailure[] = [];
  const counts = { imported: 0, updated: 0, skipped: 0, rejected: rejections.length, failed: 0 };
  let unscreened = 0;
  const total = options.rows.length;
  const progress = () =>
    options.onProgress?.({ ...counts, total, done: Object.values(counts).reduce((a, b) => a + b, 0) });

  const reject = (candidate: ImportCandidate, reason: string): Rejection => ({
    row: candidate.row,
    code: 'user_id_conflict',
    reason,
    username: candidate.username,
  });

  async function importOne(candidate: ImportCandidate): Promise<Outcome> {
    const { users } = services;
    let userId = candidate.userId;
    let existing: UserRecord | undefined;
    if (userId !== undefined) {
      const id = userId;
      existing = await retrying(() => users.findById(realm, id));
      if (existing && existing.username_key !== candidate.usernameKey) {
        return reject(candidate, `user_id "${id}" already belongs to user "${existing.username}"`);
      }
    } else if (upsert || candidate.secret.kind === 'plain') {
      // Looked up first so a rerun does not spend an argon2id hash on a user it will skip.
      existing = await retrying(() => users.findByUsername(realm, candidate.usernameKey));
      userId = existing?.user_id;
    }
    if (existing && !upsert) return 'skipped';

    const { secret } = candidate;
    const passwordHash =
      secret.kind === 'plain'
        ? await hashSlot(() => services.hasher.hash(normalizePassword(secret.password)))
        : secret.hash;
    const user: NewUser = {
      realm,
      user_id: userId ?? newUserId(),
      session_epoch: firstSessionEpoch(),
      username: candidate.username,
      username_key: candidate.usernameKey,
      email: candidate.email,
      email_verified: candidate.emailVerified,
      name: candidate.name,
      blocked: candidate.blocked,
      created_at: new Date(services.clock.now()).toISOString(),
      password_hash: passwordHash,
      permissions: {},
    };

    // Where users pick usernames, the address is claimed as at a sign-up (address-claims.ts).
    const emailKey = claimsRealmAddresses && user.email !== undefined ? addressKey(user.email) : undefined;
    if (emailKey !== undefined) {
      const holder = await retrying(() => claimAddress(users, realm, emailKey, user.user_id));
      if (holder) {
        return {
          row: candidate.row,
          code: 'email_conflict',
          reason: `email "${user.email}" belongs to user "${holder.username}"`,
          username: candidate.username,
        };
      }
    }
    const released = async <T>(outcome: T): Promise<T> => {
      // A claim left behind is taken over later (its user is another or none): best effort.
      if (emailKey !== undefined)
        await users.releaseEmail(realm, emailKey, user.user_id).catch(() => undefined);
      return outcome;
    };

    if (upsert) {
      try {
        const written = await retrying(() => users.upsert(user));
        return written === 'created' ? 'imported' : 'updated';
      } catch (error) {
        if (!(error instanceof UserExistsError)) throw error;
        return released(
          reject(candidate, `username "${candidate.username}" belongs to a user with another user_id`),
        );
      }
    }
    let retried = false;
    try {
      await retrying((attempt) => {
        retried = attempt > 1;
        return users.create(user);
      });
      return 'imported';
    } catch (error) {
      if (!(error instanceof UserExistsError)) throw error;
      if (!retried) return released('skipped' as const);
      // A retried write may have landed the first time: then the user found is ours.
      const found = await retrying(() => users.findByUsername(realm, user.username_key));
      return found?.user_id === user.user_id && found.password_hash === passwordHash
        ? 'imported'
        : released('skipped' as const);
    }
  }

  let next = 0;
  let fatal: { error: unknown } | undefined;
  async function worker() {
    while (!fatal && next < candidates.length) {
      const candidate = candidates[next++] as ImportCandidate;
      try {
        const outcome = await importOne(candidate);
        if (typeof outcome === 'string') {
          counts[outcome]++;
          if (outcome !== 'skipped' && candidate.secret.kind === 'hash') unscreened++;
        } else {
          rejections.push(outcome);
          counts.rejected++;
        }
      } catch (error) {
        if (!(error instanceof DependencyUnavailableError)) {
          // Not a busy store but a bug or a refusal (access denied, missing table): stop, rerun later.
          fatal ??= { error };
          return;
        }
        failures.push({
          row: candidate.row,
          username: candidate.username,
          reason: `${error.message} after ${retryPolicy.attempts} attempts`,
        });
        counts.failed++;
      }
      progress();
    }
  }

  progress();
  const workers = Math.max(1, Math.min(options.concurrency ?? 32, candidates.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (fatal) throw fatal.error;

  const seconds = (services.clock.now() - started) / 1000;
  return {
    realm,
    upsert,
    total,
    done: total,
    ...counts,
    seconds,
    rejections: rejections.sort((a, b) => a.row - b.row),
    failures: failures.sort((a, b) => a.row - b.row),
    hashCostClasses,
    unscreened,
  };
}

/**
 * Records the rows' hash classes that the realm's failed-login budget admits (hash-cost-budget.ts),
 * against the classes as read: when another import or a login changed them meanwhile, it reads and
 * budgets again, so two imports that each fit cannot exceed it together. The rows of a refused
 * class are rejected with the reason; each of those users can be imported with a plain password,
 * or set a new one.
 */
async function recordHashClasses(
  services: AdminServices,
  realm: string,
  kept: readonly string[],
  retrying: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<{ hashCostClasses: string[]; tooSlow: Map<string, string> }> {
  for (let round = 0; round < 10; round++) {
    const recorded = await retrying(() => services.users.hashCostClasses(realm));
    const { admitted, refused } = admitCostClasses(services.hasher.currentCostClass, recorded.classes, kept);
    if (await retrying(() => services.users.addHashCostClasses(realm, admitted, recorded.version))) {
      const tooSlow = new Map<string, string>();
      for (const [costClass, { ms, spentMs }] of refused) {
        tooSlow.set(
          costClass,
          `its kind of hash (${costClass}) takes about ${Math.round(ms)} ms to verify, and every failed ` +
            `login in the realm verifies one hash of each kind it holds (about ${Math.round(spentMs)} ms ` +
            `already): over the ${defaults.failedLoginVerifyBudgetMs} ms budget. Import this user with a ` +
            'plain password, or have them set a new one',
        );
      }
      return { hashCostClasses: kept.filter((costClass) => !tooSlow.has(costClass)), tooSlow };
    }
  }
  throw new DependencyUnavailableError(
    'dynamodb',
    'UpdateItem',
    new Error("the realm's hash classes kept changing"),
  );
}

/** The cost classes of the hashes the rows keep, other than the one new hashes have. */
function keptHashClasses(candidates: readonly ImportCandidate[], hasher: PasswordHasher): string[] {
  const classes = new Set<string>();
  for (const { secret } of candidates) {
    const costClass = secret.kind === 'hash' ? hasher.costClassOf(secret.hash) : undefined;
    if (costClass !== undefined && costClass !== hasher.currentCostClass) classes.add(costClass);
  }
  return [...classes].sort();
}
