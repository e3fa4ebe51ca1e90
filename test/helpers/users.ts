import { type AdminServices, createUser } from '../../functions/admin/user-admin.ts';
import { localAdminServices } from '../../functions/local/local-services.ts';
import type { UserRecord } from '../../functions/oauth/ports.ts';
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
