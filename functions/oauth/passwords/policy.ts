import { defaults } from '../../config/defaults.ts';
import type { RealmConfig } from '../../config/schema.ts';
import { commonPasswords, type PasswordBlocklist } from './blocklist.ts';
import { foldForBlocklist, normalizePassword, passwordTooLong } from './normalize.ts';

/**
 * The one password policy, for every way a password is set (NIST SP 800-63B §3.1.1.2): a minimum
 * length in characters (the realm's `passwordPolicy.minLength`, default 8), a maximum well above
 * 64 characters (1024 bytes of UTF-8, what argon2 is given at most), no composition rules, none
 * of the built-in 100,000 common passwords nor any in the realm's own `blocklist` file, and no
 * context-specific word: the username, the email address's local part, the realm's name or the
 * service's name. Hashes brought in by an import are not screened: their passwords are unknown.
 */

/** Which rule a password broke: sign-up answers each in Auth0's shape (accounts/signup-errors.ts). */
export type PasswordRule = 'too-short' | 'too-long' | 'common' | 'breached' | 'personal';

export interface PasswordProblem {
  readonly rule: PasswordRule;
  /** For operators and logs: names the rule, never the password. */
  readonly message: string;
}

/** NIST SP 800-63B §3.1.1.2: "context-specific words, such as the name of the service, the username". */
export interface PasswordContext {
  readonly username?: string;
  readonly email?: string;
  readonly serviceName: string;
}

/** Context words shorter than this are left out: inside a long passphrase they are chance. */
const MIN_CONTEXT_WORD = 3;

/** Why a password's length breaks the realm's policy, or undefined. Length counts characters. */
export function passwordLengthProblem(password: string, minLength: number): PasswordProblem | undefined {
  const normalized = normalizePassword(password);
  if (passwordTooLong(normalized)) {
    return { rule: 'too-long', message: `password must be at most ${defaults.passwordMaxBytes} bytes` };
  }
  if ([...normalized].length < minLength) {
    return { rule: 'too-short', message: `password must be at least ${minLength} characters` };
  }
  return undefined;
}

/** The words of the context, folded as the blocklist folds passwords. */
function contextWords(realm: RealmConfig, context: PasswordContext): string[] {
  const localPart = context.email?.slice(0, context.email.lastIndexOf('@'));
  return [context.username, localPart, realm.name, context.serviceName]
    .filter((word): word is string => word !== undefined)
    .map(foldForBlocklist)
    .filter((word) => [...word].length >= MIN_CONTEXT_WORD);
}

/**
 * Why a new password breaks the realm's policy, naming the rule, or undefined. `realmBlocklist`
 * is the realm's `passwordPolicy.blocklist` file, opened by the caller.
 */
export async function passwordPolicyProblem(
  password: string,
  realm: RealmConfig,
  context: PasswordContext,
  realmBlocklist?: PasswordBlocklist,
): Promise<PasswordProblem | undefined> {
  const length = passwordLengthProblem(password, realm.passwordPolicy.minLength);
  if (length) return length;
  const normalized = normalizePassword(password);
  if (await commonPasswords.has(normalized)) {
    return { rule: 'common', message: 'password is one of the most common passwords' };
  }
  if (await realmBlocklist?.has(normalized)) {
    return { rule: 'breached', message: 'password is in the blocklist of known breached passwords' };
  }
  const folded = foldForBlocklist(normalized);
  if (contextWords(realm, context).some((word) => folded.includes(word))) {
    return {
      rule: 'personal',
      message: "password contains the username, the email address, the realm's or the service's name",
    };
  }
  return undefined;
}
