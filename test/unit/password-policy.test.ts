import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha1BlocklistFile } from '../../functions/adapters/files/sha1-blocklist.ts';
import { parseConfig } from '../../functions/config/load.ts';
import type { PasswordBlocklist } from '../../functions/oauth/passwords/blocklist.ts';
import { commonPasswords, sortedHas } from '../../functions/oauth/passwords/blocklist.ts';
import { passwordPolicyProblem as policyProblem } from '../../functions/oauth/passwords/policy.ts';
import { testConfig } from '../helpers/config.ts';

const realm = parseConfig(testConfig()).realms[0];
if (!realm) throw new Error('no realm');

/** The message of the problem, with a context that none of these passwords contains. */
const passwordPolicyProblem = async (password: string, r: typeof realm, blocklist?: PasswordBlocklist) =>
  (await policyProblem(password, r, { serviceName: 'Shop' }, blocklist))?.message;

describe('the password policy', () => {
  it('counts length in characters after NFKC, from 8 up to 1 KiB of UTF-8 (far above 64)', async () => {
    expect(await passwordPolicyProblem('short', realm)).toBe('password must be at least 8 characters');
    expect(await passwordPolicyProblem('😀😀😀😀😀😀😀😀', realm)).toBeUndefined();
    expect(await passwordPolicyProblem('tidal orbit '.repeat(12), realm)).toBeUndefined(); // 144 characters
    expect(await passwordPolicyProblem('é'.repeat(600), realm)).toBe('password must be at most 1024 bytes');
  });

  it('asks for no composition: a long lower-case passphrase passes', async () => {
    expect(await passwordPolicyProblem('walnut lantern quietly drifts', realm)).toBeUndefined();
  });

  it('refuses the common passwords of the built-in list, whatever their case or width', async () => {
    for (const password of [
      'password',
      'Password1',
      'qwertyuiop',
      'iloveyou',
      'ＰＡＳＳＷＯＲＤ',
      'baseball1',
    ])
      expect(await passwordPolicyProblem(password, realm), password).toBe(
        'password is one of the most common passwords',
      );
  });

  it('ships at least 100,000 passwords, sorted for its binary search', async () => {
    expect(await commonPasswords.size()).toBeGreaterThanOrEqual(100_000);
    expect(sortedHas(['a', 'b', 'd'], 'c')).toBe(false);
    expect(sortedHas(['a', 'b', 'd'], 'd')).toBe(true);
    expect(sortedHas([], 'a')).toBe(false);
  });

  it("refuses what the realm's SHA-1 blocklist file holds, with or without counts, CRLF or not", async () => {
    const sha1 = (text: string) => createHash('sha1').update(text).digest('hex').toUpperCase();
    const breached = Array.from({ length: 2000 }, (_, i) => `breached passphrase ${i}`);
    const lines = breached.map(sha1).sort();
    const dir = mkdtempSync(join(tmpdir(), 'passgate-blocklist-'));
    const files = {
      counts: lines.map((hash, i) => `${hash}:${i + 1}`).join('\n'),
      bare: `${lines.join('\r\n')}\r\n`,
    };
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const blocklist = sha1BlocklistFile(path);
      for (const password of [breached[0], breached[1234], breached[1999]] as string[]) {
        expect(await passwordPolicyProblem(password, realm, blocklist), `${name} ${password}`).toBe(
          'password is in the blocklist of known breached passwords',
        );
      }
      expect(await passwordPolicyProblem('walnut lantern quietly drifts', realm, blocklist)).toBeUndefined();
      // Lines all over the file are found.
      for (const password of breached.filter((_, i) => i % 97 === 0))
        expect(await blocklist.has(password)).toBe(true);
    }
  });

  it('refuses context words: the username, the address before "@", the realm and the service, in any case', async () => {
    const context = { username: 'Zoë.Martin', email: 'zmartin@example.com', serviceName: 'Acme Shop' };
    const problem = (password: string) => policyProblem(password, realm, context);
    for (const password of [
      'my name is zoë.martin!',
      'ZMARTIN-walnut-2031',
      'customers forever and ever',
      'i love acme shop so much',
    ]) {
      expect(await problem(password), password).toEqual({
        rule: 'personal',
        message: "password contains the username, the email address, the realm's or the service's name",
      });
    }
    expect(await problem('walnut lantern quietly drifts')).toBeUndefined();
    // The domain is no context word: everyone at example.com may use "example".
    expect(await problem('an example of a passphrase')).toBeUndefined();
    // Words of two characters are chance inside a passphrase.
    expect(
      await policyProblem('xy walnut lantern', realm, { username: 'xy', serviceName: 'ab' }),
    ).toBeUndefined();
  });

  it('names each rule, so sign-up can answer in its own words', async () => {
    const rule = async (password: string) =>
      (await policyProblem(password, realm, { serviceName: 's' }))?.rule;
    expect(await rule('short')).toBe('too-short');
    expect(await rule('é'.repeat(600))).toBe('too-long');
    expect(await rule('password1')).toBe('common');
  });
});
