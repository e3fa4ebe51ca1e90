/**
 * The local server in its own Node process, so the load generator never shares its event loop:
 * a fresh data dir, the bench tenant config, `users` users with one password, and a message
 * protocol for what the bench needs from inside that process (argon2id verifies/s alone, CPU used).
 *
 * The parent imports `startServerProcess`; the child is this file run with `--child`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { Argon2Hasher } from '../functions/adapters/passwords/argon2-hasher.ts';
import { createUser } from '../functions/admin/user-admin.ts';
import { importUsers } from '../functions/admin/user-import.ts';
import { GRANT_MFA_OTP } from '../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../functions/config/schema.ts';
import { localAdminServices } from '../functions/local/local-services.ts';
import { startLocalServer } from '../functions/local/server.ts';
import type { UserStore } from '../functions/oauth/ports.ts';
import { testConfig } from '../test/helpers/config.ts';

export const BENCH_PASSWORD = 'correct horse battery staple';
export const benchUsername = (i: number) => `bench-user-${i}`;

/**
 * The test tenant with limits no bench run reaches: the bench logs thousands of users in from one
 * IP, and its failed logins (enumeration timing) must not be throttled. The counters are still
 * read and written on every attempt, as in production.
 */
export function benchConfig(): TenantConfigInput {
  const config = testConfig();
  const unthrottled = { maxConsecutiveFailures: 1_000_000, blockSeconds: 900 };
  return {
    ...config,
    realms: [
      ...config.realms.map((realm) =>
        realm.name === 'customers' ? { ...realm, bruteForce: unthrottled } : realm,
      ),
      { name: MIGRATED_REALM, bruteForce: unthrottled },
      { name: MFA_REALM, mfa: { policy: 'enrolled' }, bruteForce: unthrottled },
    ],
    clients: config.clients.map((client) =>
      client.clientId === 'mobile-app'
        ? {
            ...client,
            grantTypes: [...client.grantTypes, GRANT_MFA_OTP],
            realms: [...client.realms, MIGRATED_REALM, MFA_REALM],
          }
        : client,
    ),
    ipThrottling: { maxFailuresPerDay: 1_000_000, allowlist: [] },
  };
}

/**
 * A realm as a migration from another provider leaves it: half its users imported with bcrypt
 * hashes (cost 10, the common default) that they have not logged in with yet, half on argon2id.
 */
export const MIGRATED_REALM = 'migrated';
/** A realm whose users with an authenticator give a second factor (docs/mfa.md). */
export const MFA_REALM = 'mfa';
export const migratedUsername = (kind: 'argon2id' | 'bcrypt', i: number) => `${kind}-${i}@example.com`;

type Question =
  | { op: 'verify-rate'; concurrency: number; seconds: number }
  | { op: 'cpu' }
  | { op: 'store-read-cpu'; count: number };
type Request = Question & { id: number };

export interface ServerProcess {
  readonly issuer: string;
  /** argon2id verifies per second in the server process, with nothing else running there. */
  verifyRate(concurrency: number, seconds: number): Promise<{ count: number; seconds: number }>;
  /** CPU ms of one strongly consistent user read through the embedded store (SDK client + dynalite). */
  storeReadCpu(count: number): Promise<number>;
  /** `process.cpuUsage()` of the server process, in microseconds. */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  close(): Promise<void>;
}

/**
 * The local server of this checkout, or with `root` the one of another checkout of passgate (an
 * earlier version, to compare with in the same run: its own copy of this file, its own code).
 */
export async function startServerProcess(
  users: number,
  migratedUsers: number,
  root?: string,
): Promise<ServerProcess> {
  const args = ['--child', String(users), String(migratedUsers)];
  const entry = root ? join(root, 'bench', 'local-server-process.ts') : fileURLToPath(import.meta.url);
  const child: ChildProcess = fork(entry, args, {
    ...(root ? { cwd: root } : {}),
    // BENCH_CPU_PROF=<dir> profiles the server process (`node --cpu-prof`) to see where the time goes.
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    // The audit log lines are written as in production, then dropped.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (value: never) => void>();
  const issuer = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench server exited (${code})`)));
    child.on('message', (message: { ready?: string; id?: number; result?: never }) => {
      if (message.ready) resolve(message.ready);
      else if (message.id !== undefined) pending.get(message.id)?.(message.result as never);
    });
  });
  let nextId = 0;
  const ask = <T>(request: Question) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: never) => void);
      child.send({ ...request, id });
    });
  return {
    issuer,
    verifyRate: (concurrency, seconds) => ask({ op: 'verify-rate', concurrency, seconds }),
    cpuUsage: () => ask({ op: 'cpu' }),
    storeReadCpu: (count) => ask({ op: 'store-read-cpu', count }),
    close: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.send({ op: 'close' });
      }),
  };
}

/** `concurrency` verifies kept in flight for `seconds`, on the same libuv pool the server uses. */
async function verifyRate(hasher: Argon2Hasher, stored: string, concurrency: number, seconds: number) {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await hasher.verify(stored, BENCH_PASSWORD);
        count++;
      }
    }),
  );
  return { count, seconds: (performance.now() - start) / 1000 };
}

async function storeReadCpu(users: UserStore, count: number) {
  for (let i = 0; i < 20; i++) await users.findByUsername('customers', benchUsername(i));
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await users.findByUsername('customers', benchUsername(i));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}

async function child(users: number, migratedUsers: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'passgate-bench-'));
  const configPath = join(dataDir, 'passgate.config.json');
  writeFileSync(configPath, JSON.stringify(benchConfig()));
  const server = await startLocalServer({ port: 0, configPath, dataDir });
  const hasher = new Argon2Hasher();
  // One real argon2id hash serves every user: a login verifies it at full cost, creating costs nothing.
  const stored = await hasher.hash(BENCH_PASSWORD);
  const admin = {
    ...localAdminServices({ configPath, dataDir, store: server.store }),
    hasher: Object.assign(Object.create(hasher) as Argon2Hasher, { hash: async () => stored }),
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < users; i = next++) {
        await createUser(admin, { realm: 'customers', username: benchUsername(i), password: BENCH_PASSWORD });
      }
    }),
  );
  // Through the import, as an operator would: it records the realm's bcrypt class on the way.
  const bcryptHash = bcrypt.hashSync(BENCH_PASSWORD, 10);
  for (let i = 0; i < migratedUsers; i++) {
    const username = migratedUsername('argon2id', i);
    await createUser(admin, { realm: MIGRATED_REALM, username, password: BENCH_PASSWORD });
  }
  await importUsers(admin, {
    realm: MIGRATED_REALM,
    rows: Array.from({ length: migratedUsers }, (_, i) => ({
      row: i + 1,
      value: { email: migratedUsername('bcrypt', i), email_verified: true, password_hash: bcryptHash },
    })),
  });
  process.on('message', async (message: Request | { op: 'close' }) => {
    if (message.op === 'close') {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    }
    const result =
      message.op === 'cpu'
        ? process.cpuUsage()
        : message.op === 'store-read-cpu'
          ? await storeReadCpu(admin.users, message.count)
          : await verifyRate(hasher, stored, message.concurrency, message.seconds);
    process.send?.({ id: message.id, result });
  });
  process.send?.({ ready: server.issuer });
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]), Number(process.argv[4]));
