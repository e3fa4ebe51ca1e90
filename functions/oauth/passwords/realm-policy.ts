import { sha1BlocklistFile } from '../../adapters/files/sha1-blocklist.ts';
import type { RealmConfig, TenantConfig } from '../../config/schema.ts';
import { serviceNameOf } from '../accounts/mail-templates.ts';
import { type PasswordProblem, passwordPolicyProblem } from './policy.ts';

/**
 * The realm's policy (policy.ts) for a password being set for `user`: its blocklist file opened,
 * the user's words and the service's name as context. Every way a password is set goes through
 * here: sign-up, `users create`, `users set-password`.
 */
export function realmPasswordProblem(
  config: TenantConfig,
  realm: RealmConfig,
  password: string,
  user: { readonly username?: string; readonly email?: string },
): Promise<PasswordProblem | undefined> {
  const file = realm.passwordPolicy.blocklist;
  return passwordPolicyProblem(
    password,
    realm,
    { username: user.username, email: user.email, serviceName: serviceNameOf(config) },
    file ? sha1BlocklistFile(file) : undefined,
  );
}
