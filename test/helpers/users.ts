import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import { type AdminServices, createUser } from '../../functions/admin/user-admin.ts';
import { loadConfigFile } from '../../functions/config/load.ts';
import { systemClock, type UserRecord } from '../../functions/oauth/ports.ts';
import { localTableNames } from '../../functions/store-schema.ts';
import type { TestServer } from './local-server.ts';

/** What `passgate` builds for an operator command, against a running test server's store. */
export function adminServices(server: TestServer): AdminServices {
  return {
    config: loadConfigFile(server.configPath),
    users: new DynamoUserStore(server.store.db, localTableNames.users),
    hasher: new Argon2Hasher(),
    clock: systemClock,
  };
}

/** Creates a user in a running test server's store, as `passgate users create` does. */
export function addUser(
  server: TestServer,
  user: { realm?: string; username: string; password: string; email?: string; name?: string },
): Promise<UserRecord> {
  return createUser(adminServices(server), { realm: 'customers', ...user });
}
