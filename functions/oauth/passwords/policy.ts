import { defaults } from '../../config/defaults.ts';
import type { RealmConfig } from '../../config/schema.ts';
import { commonPasswords, type PasswordBlocklist } from './blocklist.ts';
import { normalizePassword, passwordTooLong } from './normalize.ts';

/**
 * The one password policy, for every way a password is set (NIST SP 800-63B §3.1.1.2): a minimum
 * length in characters (the realm's `passwordPolicy.minLength`, default 8), a maximum well above
 * 64 characters (1024 bytes of UTF-8, what argon2 is given at most), no composition rules, and
 * none of the built-in 100,000 common passwords nor any in the realm's own `blocklist` file.
 * Hashes brought in by an import are not screened: their passwords are unknown.
 */

/** Why a password's length breaks the realm's policy, or undefined. Length counts characters. */
export function passwordLengthProblem(password: string, minLength: number): string | undefined {
  const normalized = normalizePassword(password);
  if (passwordTooLong(normalized)) return `password must be at most ${defaults.passwordMaxBytes} bytes`;
  if ([...normalized].length < minLength) return `password must be at least ${minLength} characters`;
  return undefined;
}

/**
 * Why a new password breaks the realm's policy, naming the rule, or undefined. `realmBlocklist`
 * is the realm's `passwordPolicy.blocklist` file, opened by the caller.
 */
export async function passwordPolicyProblem(
  password: string,
  realm: RealmConfig,
  realmBlocklist?: PasswordBlocklist,
): Promise<string | undefined> {
  const length = passwordLengthProblem(password, realm.passwordPolicy.minLength);
  if (length) return length;
  const normalized = normalizePassword(password);
  if (await commonPasswords.has(normalized)) return 'password is one of the most common passwords';
  if (await realmBlocklist?.has(normalized))
    return 'password is in the blocklist of known breached passwords';
  return undefined;
}
