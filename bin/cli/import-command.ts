import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import { Argon2WorkerPool } from '../../functions/adapters/passwords/argon2-worker-pool.ts';
import { parseUserFile } from '../../functions/admin/auth0-user-format.ts';
import { AdminError, type AdminServices } from '../../functions/admin/user-admin.ts';
import { type ImportReport, importUsers } from '../../functions/admin/user-import.ts';
import { defaults } from '../../functions/config/defaults.ts';
import type { PasswordHasher } from '../../functions/oauth/ports.ts';
import { progressDisplay } from './progress.ts';
import { utf8Text } from './read-password.ts';

export interface ImportCommand {
  readonly realm: string;
  readonly file: string;
  readonly upsert: boolean;
  readonly concurrency: number;
  readonly json: boolean;
}

/** How the CLI reaches a store (local data dir, or a deployed stack), with the hasher to use. */
export type WithServices = <T>(
  run: (services: AdminServices) => Promise<T>,
  needs: { hasher: PasswordHasher },
) => Promise<T>;

/**
 * `users import`: reads the file, imports it showing progress on stderr, returns the report; or
 * undefined for a file with no users in it, for which no store is opened.
 */
export async function importFile(
  command: ImportCommand,
  withServices: WithServices,
): Promise<ImportReport | undefined> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(command.file);
  } catch (error) {
    throw new AdminError(`cannot read ${command.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const text = utf8Text(bytes, command.file);
  const rows = parseUserFile(text, command.file);
  if (rows.length === 0) return undefined;
  const display = progressDisplay(process.stderr, { plain: command.json });
  // Plain passwords are hashed on a worker thread per core (see argon2-worker-pool.ts).
  const pool = new Argon2WorkerPool(availableParallelism());
  try {
    const report = await withServices(
      (services) =>
        importUsers(services, {
          realm: command.realm,
          rows,
          upsert: command.upsert,
          concurrency: command.concurrency,
          hashConcurrency: 2 * pool.size, // one hashing, one queued, per worker
          onProgress: (progress) => display.update(progress),
        }),
      { hasher: new Argon2Hasher(defaults.argon2, pool) },
    );
    display.finish(report);
    return report;
  } finally {
    await pool.close();
  }
}
