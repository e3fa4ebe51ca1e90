import { describe, expect, it } from 'vitest';
import {
  normalizePassword,
  passwordTooLong,
  usernameKey,
  usernameProblem,
} from '../../functions/oauth/passwords/normalize.ts';

describe('username and password normalisation', () => {
  it('matches usernames case-insensitively after NFKC', () => {
    expect(usernameKey('Ａｌｉｃｅ')).toBe('alice');
    expect(usernameKey('ALICE')).toBe(usernameKey('alice'));
    expect(usernameKey('ﬁle')).toBe('file'); // compatibility ligature
    expect(usernameKey('Å')).toBe(usernameKey('Å')); // composed vs decomposed
  });

  it('applies NFKC to passwords and changes nothing else', () => {
    expect(normalizePassword('Ｐａｓｓ')).toBe('Pass');
    expect(normalizePassword('  Mixed Case  ')).toBe('  Mixed Case  ');
  });

  it('refuses empty, control-character, padded and over-long usernames', () => {
    expect(usernameProblem('')).toMatch(/empty/);
    expect(usernameProblem('a\u0000b')).toMatch(/control/);
    expect(usernameProblem(' alice')).toMatch(/white space/);
    expect(usernameProblem('a'.repeat(129))).toMatch(/at most 128/);
    expect(usernameProblem('alice@example.com')).toBeUndefined();
  });

  it('checks the 1 KiB limit in bytes', () => {
    expect(passwordTooLong('é'.repeat(513))).toBe(true);
    expect(passwordTooLong('e'.repeat(1024))).toBe(false);
  });
});
