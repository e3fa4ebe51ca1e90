import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** Auth0's recovery codes: 24 characters an app can show and a person can type, 120 random bits. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const LENGTH = 24;

export const newRecoveryCode = () =>
  Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/**
 * Stored as SHA-256 only. 120 random bits are beyond guessing, so no slow hash is needed (like
 * client secrets); case and spaces are forgiven as people type them.
 */
export const hashRecoveryCode = (code: string) =>
  createHash('sha256').update(code.replace(/\s+/g, '').toUpperCase(), 'utf8').digest('base64url');

export function recoveryCodeMatches(code: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'base64url');
  const actual = Buffer.from(hashRecoveryCode(code), 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
