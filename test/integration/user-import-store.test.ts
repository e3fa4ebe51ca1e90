import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoSignInStore } from '../../functions/adapters/dynamodb/sign-in-store.ts';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import type { ImportRow } from '../../functions/admin/auth0-user-format.ts';
import { AdminError, type AdminServices, createUser } from '../../functions/admin/user-admin.ts';
import { importUsers } from '../../functions/admin/user-import.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { type LocalStore, startEmbeddedStore } from '../../functions/local/embedded-store.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import type { UserRecord } from '../../functions/oauth/ports.ts';
import {
  type NewUser,
  type PasswordHasher,
  systemClock,
  UserExistsError,
  type UserStore,
} from '../../functions/oauth/ports.ts';
import { localTableNames } from '../../functions/store-schema.ts';
import { testConfig } from '../helpers/config.ts';
import { MemoryAttemptStore } from '../helpers/memory-ports.ts';

let dataDir: string;
let store: LocalStore;
let users: DynamoUserStore;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'passgate-import-'));
  store = await startEmbeddedStore(dataDir);
  users = new DynamoUserStore(store.db, localTableNames.users);
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const BCRYPT = '$2b$04$0123456789012345678901uAbCdEfGhIjKlMnOpQrStUvWxYz0123';

const newUser = (overrides: Partial<NewUser> = {}): NewUser => ({
  realm: 'customers',
  user_id: 'id-1',
  session_epoch: 0,
  username: 'Alice',
  username_key: 'alice',
  email_verified: false,
  blocked: false,
  created_at: '2025-01-01T00:00:00.000Z',
  password_hash: BCRYPT,
  permissions: {},
  ...overrides,
});

const throttled = () =>
  new DependencyUnavailableError(
    'dynamodb',
    'PutItem',
    Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
  );

/** The real store with `create` replaced: everything else still reaches dynalite. */
function withCreate(create: (user: NewUser, real: UserStore) => Promise<unknown>): UserStore {
  const flaky = Object.create(users) as UserStore;
  flaky.create = async (user) => {
    await create(user, users);
    return users.create(user);
  };
  return flaky;
}

/** A hasher that records how many plain passwords it hashes at once. */
function countingHasher() {
  const real = new Argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const stats = { active: 0, max: 0, calls: 0 };
  const hasher = Object.create(real) as PasswordHasher;
  hasher.hash = async (password) => {
    stats.calls++;
    stats.max = Math.max(stats.max, ++stats.active);
    try {
      await new Promise((resolve) => setTimeout(resolve, 20)); // long enough for every slot to fill
      return await real.hash(password);
    } finally {
      stats.active--;
    }
  };
  return { hasher, stats };
}

function services(userStore: UserStore, hasher: PasswordHasher = new Argon2Hasher()): AdminServices {
  return {
    config: parseConfig(testConfig()),
    users: userStore,
    attempts: new MemoryAttemptStore(),
    counterHashKey: Buffer.alloc(32, 7),
    hasher,
    clock: systemClock,
  };
}

const rowsOf = (count: number, make: (i: number) => Record<string, unknown>): ImportRow[] =>
  Array.from({ length: count }, (_, i) => ({ row: i + 1, value: make(i) }));

const bcryptRows = (count: number) =>
  rowsOf(count, (i) => ({ email: `user${i}@example.com`, password_hash: BCRYPT }));

describe('user store: upgrading a password hash', () => {
  it('replaces the hash that was verified', async () => {
    const user = await users.create(newUser());
    expect(await users.upgradePasswordHash(user, BCRYPT, '$argon2id$new')).toBe(true);
    expect((await users.findByUsername('customers', 'alice'))?.password_hash).toBe('$argon2id$new');
  });

  it('never overwrites a password changed since it was verified', async () => {
    const user = await users.create(newUser());
    await users.setPassword('customers', 'alice', '$argon2id$set-by-the-user', '2025-02-01T00:00:00.000Z');
    expect(await users.upgradePasswordHash(user, BCRYPT, '$argon2id$upgrade')).toBe(false);
    expect((await users.findByUsername('customers', 'alice'))?.password_hash).toBe(
      '$argon2id$set-by-the-user',
    );
  });

  it('never writes to a user re-created under the same name meanwhile', async () => {
    const user = await users.create(newUser());
    await users.delete('customers', 'alice');
    await users.create(newUser({ user_id: 'id-2' }));
    expect(await users.upgradePasswordHash(user, BCRYPT, '$argon2id$upgrade')).toBe(false);
    expect((await users.findByUsername('customers', 'alice'))?.password_hash).toBe(BCRYPT);
  });
});

describe('user store: upsert', () => {
  it('creates, then overwrites profile and password but keeps id, history and permissions', async () => {
    expect(await users.upsert(newUser({ email: 'a@example.com', name: 'Alice' }))).toBe('created');
    await new DynamoSignInStore(store.db, localTableNames).record({
      user: (await users.findById('customers', 'id-1')) as UserRecord,
      at: '2025-01-02T00:00:00.000Z',
      loginId: 'login-1',
    });
    await users.setPermissions('customers', 'alice', 'https://api.example.com/', ['read:orders'], 'now');
    const result = await users.upsert(
      newUser({ created_at: '2025-03-01T00:00:00.000Z', password_hash: '$2b$new', email_verified: true }),
    );
    expect(result).toBe('updated');
    const after = await users.findByUsername('customers', 'alice');
    expect(after).toMatchObject({
      user_id: 'id-1',
      created_at: '2025-01-01T00:00:00.000Z',
      updated_at: '2025-03-01T00:00:00.000Z',
      logins_count: 1,
      last_login: '2025-01-02T00:00:00.000Z',
      permissions: { 'https://api.example.com/': ['read:orders'] },
      password_hash: '$2b$new',
      email_verified: true,
      email: 'a@example.com',
      name: 'Alice',
    });
    expect((await users.findById('customers', 'id-1'))?.username_key).toBe('alice');
  });

  it('refuses a username that belongs to a user with another id', async () => {
    await users.create(newUser());
    await expect(users.upsert(newUser({ user_id: 'id-2' }))).rejects.toBeInstanceOf(UserExistsError);
  });
});

describe('users import against a busy store', () => {
  it('retries throttled writes with growing delays and imports everyone', async () => {
    const tries = new Map<string, number>();
    const delays: number[] = [];
    const report = await importUsers(
      services(
        withCreate(async (user) => {
          const n = (tries.get(user.username_key) ?? 0) + 1;
          tries.set(user.username_key, n);
          if (n <= 2) throw throttled();
        }),
      ),
      {
        realm: 'customers',
        rows: bcryptRows(20),
        concurrency: 5,
        sleep: async (ms) => void delays.push(ms),
        random: () => 1,
      },
    );
    expect(report).toMatchObject({ imported: 20, skipped: 0, failed: 0, rejected: 0 });
    expect([...tries.values()]).toEqual(Array(20).fill(3));
    expect(delays.filter((ms) => ms === 50)).toHaveLength(20);
    expect(delays.filter((ms) => ms === 100)).toHaveLength(20);
  });

  it('counts a write whose answer was lost as imported, not as already present', async () => {
    const answered = new Set<string>();
    const report = await importUsers(
      services(
        withCreate(async (user, real) => {
          if (answered.has(user.username_key)) return;
          answered.add(user.username_key);
          await real.create(user); // the write lands, then the answer is lost
          throw throttled();
        }),
      ),
      { realm: 'customers', rows: bcryptRows(5), sleep: async () => {} },
    );
    expect(report).toMatchObject({ imported: 5, skipped: 0, failed: 0 });
  });

  it('reports rows the store never took as failed, and a rerun imports just those', async () => {
    const rows = bcryptRows(10);
    const report = await importUsers(
      services(
        withCreate(async (user) => {
          if (user.username_key.startsWith('user3') || user.username_key.startsWith('user7'))
            throw throttled();
        }),
      ),
      { realm: 'customers', rows, sleep: async () => {} },
    );
    expect(report).toMatchObject({ imported: 8, failed: 2 });
    expect(report.failures).toEqual([
      {
        row: 4,
        username: 'user3@example.com',
        reason: 'dynamodb PutItem failed: ThrottlingException after 8 attempts',
      },
      {
        row: 8,
        username: 'user7@example.com',
        reason: 'dynamodb PutItem failed: ThrottlingException after 8 attempts',
      },
    ]);
    const rerun = await importUsers(services(users), { realm: 'customers', rows });
    expect(rerun).toMatchObject({ imported: 2, skipped: 8, failed: 0 });
  });

  it('stops at an error that retrying cannot fix', async () => {
    const denied = Object.assign(new Error('not authorized to perform dynamodb:PutItem'), {
      name: 'AccessDeniedException',
    });
    await expect(
      importUsers(
        services(
          withCreate(async () => {
            throw denied;
          }),
        ),
        { realm: 'customers', rows: bcryptRows(50), concurrency: 4 },
      ),
    ).rejects.toBe(denied);
  });

  it('hashes plain passwords at most hashConcurrency at a time, and none for users it skips', async () => {
    const rows = rowsOf(12, (i) => ({ email: `plain${i}@example.com`, password: `password number ${i}` }));
    const { hasher, stats } = countingHasher();
    const report = await importUsers(services(users, hasher), {
      realm: 'customers',
      rows,
      concurrency: 12,
      hashConcurrency: 3,
    });
    expect(report.imported).toBe(12);
    expect(stats).toMatchObject({ calls: 12, max: 3 });
    const again = await importUsers(services(users, hasher), {
      realm: 'customers',
      rows,
      hashConcurrency: 3,
    });
    expect(again).toMatchObject({ imported: 0, skipped: 12 });
    expect(stats.calls).toBe(12);
  });

  it('refuses an unknown realm before touching anything', async () => {
    await expect(importUsers(services(users), { realm: 'staff', rows: bcryptRows(1) })).rejects.toThrow(
      'unknown realm "staff" (configured: customers, employees)',
    );
  });
});

describe('where users pick usernames, an operator or an import claims the address as a sign-up does', () => {
  const claiming = (): AdminServices => ({
    ...services(users, new Argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 })),
    config: parseConfig({
      ...testConfig(),
      email: { from: 'no-reply@shop.example' },
      realms: [...testConfig().realms, { name: 'members', signup: { enabled: true, requireUsername: true } }],
    }),
  });
  const PASSWORD = 'a long enough password';
  const member = (admin: AdminServices, username: string, email: string) =>
    createUser(admin, { realm: 'members', username, password: PASSWORD, email });

  it('users create claims the address, refuses one another user holds, and gives it back when the username is taken', async () => {
    const admin = claiming();
    const bob = await member(admin, 'bob', 'Bob@Example.com');
    expect(await users.emailHolder('members', 'bob@example.com')).toBe(bob.user_id);
    await expect(
      createUser(admin, {
        realm: 'members',
        username: 'robert',
        password: PASSWORD,
        email: 'bob@example.com',
      }),
    ).rejects.toThrow(new AdminError('email "bob@example.com" belongs to user "bob" in realm "members"'));
    await expect(
      createUser(admin, {
        realm: 'members',
        username: 'bob',
        password: PASSWORD,
        email: 'other@example.com',
      }),
    ).rejects.toThrow(/already exists/);
    expect(await users.emailHolder('members', 'other@example.com')).toBeUndefined();
    // In a realm whose usernames are addresses, nothing is claimed.
    await createUser(admin, {
      realm: 'customers',
      username: 'carol@example.com',
      password: PASSWORD,
      email: 'carol@example.com',
    });
    expect(await users.emailHolder('customers', 'carol@example.com')).toBeUndefined();
  });

  it('users import claims each address, and refuses one held by another user or repeated in the file', async () => {
    const admin = claiming();
    const dora = await member(admin, 'dora', 'dora@example.com');
    const report = await importUsers(admin, {
      realm: 'members',
      rows: [
        { row: 1, value: { username: 'erin', email: 'erin@example.com', password_hash: BCRYPT } },
        { row: 2, value: { username: 'erin2', email: 'ERIN@example.com', password_hash: BCRYPT } },
        { row: 3, value: { username: 'dora2', email: 'dora@example.com', password_hash: BCRYPT } },
      ],
    });
    expect(report).toMatchObject({ imported: 1, rejected: 2 });
    expect(report.rejections.map(({ row, code }) => [row, code])).toEqual([
      [2, 'duplicate_in_file'],
      [3, 'email_conflict'],
    ]);
    const erin = await users.findByUsername('members', 'erin');
    expect(await users.emailHolder('members', 'erin@example.com')).toBe(erin?.user_id);
    expect(await users.emailHolder('members', 'dora@example.com')).toBe(dora.user_id);
    expect(await users.findByUsername('members', 'dora2')).toBeUndefined();
  });
});
