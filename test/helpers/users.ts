import { type AdminServices, createUser } from '../../functions/admin/user-admin.ts';
import { localAdminServices } from '../../functions/local/local-services.ts';
import type { NewUser, UserRecord } from '../../functions/oauth/ports.ts';
import type { TestServer } from './local-server.ts';

/** The operator's services on a running test server's store, as `passgate` uses them. */
export const adminServices = (server: TestServer): AdminServices => localAdminServices(server);

/** Creates a user in a running test server's store, as `passgate users create` does. */
export function addUser(
  server: TestServer,
  user: { realm?: string; username: string; password: string; email?: string; name?: string },
): Promise<UserRecord> {
  return createUser(adminServices(server), { realm: 'customers', ...user });
}

/** A user record to create in a store directly: `name` as username, key and id. */
export function newUserRecord(name: string, overrides: Partial<NewUser> = {}): NewUser {
  return {
    realm: 'customers',
    user_id: `${name}-id`,
    session_epoch: 0,
    username: name,
    username_key: name,
    email_verified: false,
    blocked: false,
    created_at: '2030-01-01T00:00:00.000Z',
    password_hash: '$argon2id$placeholder',
    permissions: {},
    ...overrides,
  };
}
