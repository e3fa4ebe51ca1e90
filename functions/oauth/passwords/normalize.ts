import { defaults } from '../../config/defaults.ts';

/**
 * Usernames match case-insensitively after Unicode NFKC (docs/reference.md), so "Ａlice" and "alice"
 * are one account. NFKC again after lower-casing, since case mapping can leave a string denormalised.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** NIST SP 800-63B §5.1.1.2: apply NFKC to passwords before hashing; never otherwise change them. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * How the built-in blocklist compares passwords: after NFKC and in lower case, so that
 * `Password1` is refused with `password1` (a capital first letter is the most expected change).
 */
export const foldForBlocklist = (password: string) => normalizePassword(password).toLowerCase();

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a username cannot be used, or undefined when it can. */
export function usernameProblem(username: string): string | undefined {
  const normalized = username.normalize('NFKC');
  if (normalized.length === 0) return 'username must not be empty';
  if ([...normalized].length > defaults.usernameMaxLength) {
    return `username must be at most ${defaults.usernameMaxLength} characters`;
  }
  if (CONTROL_CHARACTERS.test(normalized)) return 'username must not contain control characters';
  if (normalized.trim() !== normalized) return 'username must not start or end with white space';
  return undefined;
}

/** True when the password is too long to be hashed at all: refused before argon2 spends anything. */
export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > defaults.passwordMaxBytes;
}
