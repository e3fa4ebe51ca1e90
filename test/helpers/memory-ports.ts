import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/signing/local-signer.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { silentLogger } from '../../functions/logging.ts';
import {
  type AttemptStore,
  type Clock,
  type NewUser,
  type PasswordHasher,
  UserExistsError,
  UserNotFoundError,
  type UserRecord,
  type UserStore,
} from '../../functions/oauth/ports.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { testConfig } from './config.ts';

/** An in-memory UserStore for unit tests of the protocol layer (the real one is tested against dynalite). */
export class MemoryUserStore implements UserStore {
  readonly users = new Map<string, UserRecord>();
  private key = (realm: string, usernameKey: string) => `${realm}#${usernameKey}`;

  async findByUsername(realm: string, usernameKey: string) {
    return this.users.get(this.key(realm, usernameKey));
  }
  async findById(realm: string, userId: string) {
    return [...this.users.values()].find((user) => user.realm === realm && user.user_id === userId);
  }
  async create(user: NewUser) {
    if (this.users.has(this.key(user.realm, user.username_key))) throw new UserExistsError();
    const record = { ...user, updated_at: user.created_at, logins_count: 0 };
    this.users.set(this.key(user.realm, user.username_key), record);
    return record;
  }
  async recordLogin(user: UserRecord, at: string) {
    const stored = this.users.get(this.key(user.realm, user.username_key));
    if (stored?.user_id === user.user_id) {
      this.users.set(this.key(user.realm, user.username_key), {
        ...stored,
        last_login: at,
        logins_count: stored.logins_count + 1,
      });
    }
  }
  private change(realm: string, usernameKey: string, patch: Partial<UserRecord>) {
    const stored = this.users.get(this.key(realm, usernameKey));
    if (!stored) throw new UserNotFoundError();
    const updated = { ...stored, ...patch };
    this.users.set(this.key(realm, usernameKey), updated);
    return Promise.resolve(updated);
  }
  setPassword(realm: string, usernameKey: string, password_hash: string, updated_at: string) {
    return this.change(realm, usernameKey, { password_hash, updated_at });
  }
  setBlocked(realm: string, usernameKey: string, blocked: boolean, updated_at: string) {
    return this.change(realm, usernameKey, { blocked, updated_at });
  }
  async setPermissions(
    realm: string,
    usernameKey: string,
    api: string,
    scopes: readonly string[],
    updated_at: string,
  ) {
    const stored = await this.findByUsername(realm, usernameKey);
    return this.change(realm, usernameKey, {
      permissions: { ...stored?.permissions, [api]: scopes },
      updated_at,
    });
  }
  async delete(realm: string, usernameKey: string) {
    const stored = this.users.get(this.key(realm, usernameKey));
    if (!stored) throw new UserNotFoundError();
    this.users.delete(this.key(realm, usernameKey));
    return stored;
  }
  async *list(realm: string) {
    yield* [...this.users.values()].filter((user) => user.realm === realm);
  }
}

/** In-memory brute-force counters with the same expiry rules as the DynamoDB store. */
export class MemoryAttemptStore implements AttemptStore {
  readonly counters = new Map<string, { failures: number; expiresAt: number; userRef?: string }>();
  async failures(key: string, now: number) {
    const counter = this.counters.get(key);
    return counter && counter.expiresAt > now ? counter.failures : 0;
  }
  async addFailure(key: string, expiresAt: number, now: number, userRef?: string) {
    const failures = (await this.failures(key, now)) + 1;
    this.counters.set(key, { failures, expiresAt, userRef });
    return failures;
  }
  async reset(key: string) {
    this.counters.delete(key);
  }
  async resetUser(userRef: string) {
    for (const [key, counter] of this.counters) if (counter.userRef === userRef) this.counters.delete(key);
  }
}

/** A transparent hasher ("plain:<password>") that records every call, for unit tests. */
export class RecordingHasher implements PasswordHasher {
  readonly calls: string[] = [];
  async hash(password: string) {
    this.calls.push('hash');
    return `plain:${password}`;
  }
  async verify(passwordHash: string, password: string) {
    this.calls.push('verify');
    return passwordHash === `plain:${password}`;
  }
  async verifyDummy(_password: string): Promise<false> {
    this.calls.push('verifyDummy');
    return false;
  }
}

export const fixedClock = (iso = '2026-11-26T12:00:00.000Z'): Clock & { set(iso: string): void } => {
  let now = Date.parse(iso);
  return {
    now: () => now,
    set(next) {
      now = Date.parse(next);
    },
  };
};

/** Services for unit tests: memory store, recording hasher, a real local RSA signer, fixed clock. */
export async function memoryServices(overrides: Partial<Services> = {}) {
  const users = new MemoryUserStore();
  const attempts = new MemoryAttemptStore();
  const hasher = new RecordingHasher();
  const clock = fixedClock();
  const signer = await LocalSigner.fromDataDir(mkdtempSync(join(tmpdir(), 'passgate-unit-')));
  const services: Services = {
    config: parseConfig(testConfig()),
    users,
    attempts,
    counterHashKey: Buffer.alloc(32, 7),
    hasher,
    signer,
    clock,
    logger: silentLogger,
    issuer: 'https://auth.example.com/',
    ...overrides,
  };
  return { services, users, attempts, hasher, clock, signer };
}
