import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import type { ImportRow } from '../../functions/admin/auth0-user-format.ts';
import { setPassword } from '../../functions/admin/user-admin.ts';
import { type ImportReport, importUsers } from '../../functions/admin/user-import.ts';
import { dummyHashOf } from '../../functions/oauth/passwords/hash-format.ts';
import { usernameKey } from '../../functions/oauth/passwords/normalize.ts';
import { json } from '../helpers/http.ts';
import {
  argon2Fields,
  bcryptCustomFields,
  bcryptFields,
  pbkdf2Fields,
  scryptFields,
} from '../helpers/legacy-hashes.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { adminServices } from '../helpers/users.ts';

/** The hash every login leaves behind: argon2id with the current parameters (config/defaults.ts). */
const CURRENT_ARGON2ID = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;

interface Legacy {
  readonly username: string;
  readonly password: string;
  readonly storedPrefix: RegExp;
  readonly fields: Record<string, unknown>;
}

let server: TestServer;
let legacy: Legacy[];
let report: ImportReport;
let currentArgon2Hash: string;
let rows: ImportRow[];

const login = (username: string, password: string) =>
  server.token({ grant_type: 'password', client_id: 'mobile-app', username, password });

const stored = async (username: string) => {
  const user = await adminServices(server).users.findByUsername('customers', usernameKey(username));
  if (!user) throw new Error(`no user ${username}`);
  return user;
};

const toRows = (entries: unknown[]): ImportRow[] => entries.map((value, i) => ({ row: i + 1, value }));

beforeAll(async () => {
  server = await startTestServer();
  currentArgon2Hash = await new Argon2Hasher().hash('current argon2id password');
  legacy = [
    {
      username: 'plain@example.com',
      password: 'a plain password',
      storedPrefix: CURRENT_ARGON2ID,
      fields: { password: 'a plain password' },
    },
    {
      username: 'bcrypt-2a@example.com',
      password: 'bcrypt 2a password',
      storedPrefix: /^\$2a\$10\$/,
      fields: bcryptFields('bcrypt 2a password', 10, '$2a$'),
    },
    {
      username: 'bcrypt-2b@example.com',
      password: 'bcrypt 2b password',
      storedPrefix: /^\$2b\$08\$/,
      fields: bcryptCustomFields('bcrypt 2b password'),
    },
    {
      username: 'bcrypt-2y@example.com',
      password: 'bcrypt 2y password',
      storedPrefix: /^\$2y\$06\$/,
      fields: bcryptFields('bcrypt 2y password', 6, '$2y$'),
    },
    {
      username: 'pbkdf2-sha256@example.com',
      password: 'pbkdf2 sha256 password',
      storedPrefix: /^\$pbkdf2-sha256\$i=10000,l=32\$/,
      fields: pbkdf2Fields('pbkdf2 sha256 password', 'sha256'),
    },
    {
      username: 'pbkdf2-sha512@example.com',
      password: 'pbkdf2 sha512 password',
      storedPrefix: /^\$pbkdf2-sha512\$i=100000,l=64\$/,
      fields: pbkdf2Fields('pbkdf2 sha512 password', 'sha512', { omitParameters: true }),
    },
    {
      username: 'pbkdf2-sha1@example.com',
      password: 'pbkdf2 sha1 password',
      storedPrefix: /^\$pbkdf2-sha1\$i=20000,l=20\$/,
      fields: pbkdf2Fields('pbkdf2 sha1 password', 'sha1', { iterations: 20_000, keylen: 20 }),
    },
    {
      username: 'scrypt-hex@example.com',
      password: 'scrypt hex password',
      storedPrefix: /^\$scrypt\$ln=14,r=8,p=1\$/,
      fields: scryptFields('scrypt hex password'),
    },
    {
      username: 'scrypt-base64@example.com',
      password: 'scrypt base64 password',
      storedPrefix: /^\$scrypt\$ln=14,r=8,p=1\$/,
      fields: scryptFields('scrypt base64 password', {
        hashEncoding: 'base64',
        saltEncoding: 'utf8',
        omitParameters: true,
      }),
    },
    {
      username: 'scrypt-light@example.com',
      password: 'scrypt light password',
      storedPrefix: /^\$scrypt\$ln=10,r=4,p=2\$/,
      fields: scryptFields('scrypt light password', { cost: 1024, blockSize: 4, parallelization: 2 }),
    },
    {
      username: 'argon2i@example.com',
      password: 'argon2i password',
      storedPrefix: /^\$argon2i\$v=19\$m=4096,t=3,p=1\$/,
      fields: await argon2Fields('argon2i password', 'argon2i'),
    },
    {
      username: 'argon2id-old@example.com',
      password: 'older argon2id password',
      storedPrefix: /^\$argon2id\$v=19\$m=4096,t=3,p=1\$/,
      fields: await argon2Fields('older argon2id password', 'argon2id'),
    },
  ];
  rows = toRows([
    ...legacy.map(({ username, fields }, i) => ({
      email: username,
      email_verified: i % 2 === 0,
      ...(i === 1 ? { user_id: 'auth0|5f7c8ec7c33c6c004bbafe82', name: 'Bea Crypt' } : {}),
      ...fields,
    })),
    {
      email: 'current@example.com',
      custom_password_hash: { algorithm: 'argon2', hash: { value: currentArgon2Hash, encoding: 'utf8' } },
    },
    { email: 'blocked@example.com', blocked: true, ...bcryptFields('blocked user password', 4) },
    { username: 'no-email-user', password: 'username only password' },
    // Rows that must be rejected, each for its own reason.
    { email: 'not-an-email', password: 'whatever password' },
    {
      email: 'md5@example.com',
      custom_password_hash: { algorithm: 'md5', hash: { value: 'ab', encoding: 'hex' } },
    },
    { email: 'rot@example.com', custom_password_hash: { algorithm: 'rot13', hash: { value: 'x' } } },
    { email: 'broken-bcrypt@example.com', password_hash: '$2b$10$tooShort' },
    { email: 'weak@example.com', password: 'short' },
    { email: 'PLAIN@example.com', password: 'a duplicate of row 1' },
    { email: 'nothing@example.com' },
    {
      email: 'pbkdf2-md5@example.com',
      custom_password_hash: {
        algorithm: 'pbkdf2',
        hash: { value: '$pbkdf2-md5$i=1000,l=16$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA' },
      },
    },
    {
      email: 'scrypt-odd@example.com',
      custom_password_hash: {
        algorithm: 'scrypt',
        hash: { value: 'ab'.repeat(32), encoding: 'hex' },
        salt: { value: 'salt' },
        cost: 1000,
      },
    },
  ]);
  report = await importUsers(adminServices(server), { realm: 'customers', rows, concurrency: 8 });
});
afterAll(() => server.stop());

describe('users import: what lands in the store', () => {
  it('imports every good row and rejects each bad row with its row number and reason', () => {
    expect(report).toMatchObject({
      realm: 'customers',
      total: 24,
      done: 24,
      imported: 15,
      updated: 0,
      skipped: 0,
      rejected: 9,
      failed: 0,
      failures: [],
    });
    expect(report.rejections.map(({ row, code }) => [row, code])).toEqual([
      [16, 'invalid_email'],
      [17, 'unsupported_algorithm'],
      [18, 'unsupported_algorithm'],
      [19, 'malformed_hash'],
      [20, 'weak_password'],
      [21, 'duplicate_in_file'],
      [22, 'missing_password'],
      [23, 'unsupported_algorithm'],
      [24, 'malformed_hash'],
    ]);
    expect(report.rejections[5]?.reason).toBe(
      'duplicate in the file: username "PLAIN@example.com" is also on row 1',
    );
    expect(report.rejections[8]?.reason).toBe('scrypt cost N=1000 is not a power of two');
  });

  it('keeps each legacy hash as it is, saying which algorithm it is', async () => {
    for (const { username, storedPrefix } of legacy) {
      expect((await stored(username)).password_hash, username).toMatch(storedPrefix);
    }
    expect((await stored('current@example.com')).password_hash).toBe(currentArgon2Hash);
  });

  it('keeps Auth0 user ids (without the strategy prefix), names and flags', async () => {
    const bea = await stored('bcrypt-2a@example.com');
    expect(bea).toMatchObject({
      user_id: '5f7c8ec7c33c6c004bbafe82',
      username: 'bcrypt-2a@example.com',
      email: 'bcrypt-2a@example.com',
      email_verified: false,
      name: 'Bea Crypt',
      blocked: false,
      logins_count: 0,
    });
    expect((await stored('plain@example.com')).email_verified).toBe(true);
    expect((await stored('blocked@example.com')).blocked).toBe(true);
    expect((await stored('no-email-user')).email).toBeUndefined();
  });
});

describe('users import: logging in afterwards', () => {
  it('lets every imported user log in over HTTP, then upgrades the hash to current argon2id', async () => {
    const hasher = new Argon2Hasher();
    for (const { username, password } of legacy) {
      const first = await login(username, password);
      expect(first.status, username).toBe(200);
      const after = (await stored(username)).password_hash;
      expect(after, username).toMatch(CURRENT_ARGON2ID);
      expect(hasher.needsRehash(after)).toBe(false);
      expect((await login(username.toUpperCase(), password)).status, username).toBe(200);
      expect((await stored(username)).password_hash, username).toBe(after); // no second upgrade
    }
  });

  it('issues tokens for the imported user id', async () => {
    const body = await json(await login('bcrypt-2a@example.com', 'bcrypt 2a password'));
    expect(decodeJwt(body.access_token).sub).toBe('customers|5f7c8ec7c33c6c004bbafe82');
  });

  it('leaves a current argon2id hash alone', async () => {
    expect((await login('current@example.com', 'current argon2id password')).status).toBe(200);
    expect((await stored('current@example.com')).password_hash).toBe(currentArgon2Hash);
  });

  it('never upgrades on a wrong password, and refuses it as any wrong password', async () => {
    const before = (await stored('blocked@example.com')).password_hash;
    const wrong = await login('blocked@example.com', 'not the password');
    expect(wrong.status).toBe(400);
    expect(await json(wrong)).toEqual({
      error: 'invalid_grant',
      error_description: 'Wrong email or password.',
    });
    expect((await stored('blocked@example.com')).password_hash).toBe(before);
  });

  it('still refuses a blocked user with the right password (403), and keeps the legacy hash', async () => {
    const response = await login('blocked@example.com', 'blocked user password');
    expect(response.status).toBe(403);
    expect((await json(response)).error).toBe('access_denied');
    expect((await stored('blocked@example.com')).password_hash).toMatch(/^\$2b\$04\$/);
  });

  it('logs a user without an email in by username', async () => {
    expect((await login('no-email-user', 'username only password')).status).toBe(200);
  });
});

describe('users import: running it again', () => {
  it('refuses the rows of a kind of hash that would make every failed login too slow, and says why', async () => {
    const result = await importUsers(adminServices(server), {
      realm: 'customers',
      rows: toRows([
        { email: 'quick-bcrypt@example.com', ...bcryptFields('quick bcrypt', 4) },
        // bcrypt at cost 14 verifies in about 1.4 s: past the 1 s budget alone. Nothing matches it.
        { email: 'slow-bcrypt@example.com', password_hash: dummyHashOf('$2b$14') },
      ]),
    });
    expect(result).toMatchObject({ imported: 1, rejected: 1 });
    expect(result.hashCostClasses).toEqual(['$2b$04']);
    expect(result.rejections).toEqual([
      {
        row: 2,
        code: 'slow_hash',
        username: 'slow-bcrypt@example.com',
        reason: expect.stringMatching(
          /^its kind of hash \(\$2b\$14\) takes about 1\d{3} ms to verify, .* over the 1000 ms budget\./,
        ),
      },
    ]);
    const { classes } = await adminServices(server).users.hashCostClasses('customers');
    expect(classes).toContain('$2b$04');
    expect(classes).not.toContain('$2b$14');
    expect((await login('quick-bcrypt@example.com', 'quick bcrypt')).status).toBe(200);
  });

  it('skips everyone already present and overwrites no password changed since', async () => {
    await setPassword(adminServices(server), 'customers', 'plain@example.com', 'changed since import');
    const upgraded = (await stored('pbkdf2-sha256@example.com')).password_hash;
    const again = await importUsers(adminServices(server), { realm: 'customers', rows, concurrency: 8 });
    expect(again).toMatchObject({ imported: 0, updated: 0, skipped: 15, rejected: 9, failed: 0 });
    expect((await login('plain@example.com', 'changed since import')).status).toBe(200);
    expect((await login('plain@example.com', 'a plain password')).status).toBe(400);
    expect((await stored('pbkdf2-sha256@example.com')).password_hash).toBe(upgraded);
  });

  it('overwrites on purpose with --upsert, keeping the user id, history and permissions', async () => {
    const before = await stored('bcrypt-2a@example.com');
    const othersId = (await stored('pbkdf2-sha1@example.com')).user_id;
    const upsert = await importUsers(adminServices(server), {
      realm: 'customers',
      upsert: true,
      rows: toRows([
        {
          email: 'bcrypt-2a@example.com',
          user_id: 'auth0|5f7c8ec7c33c6c004bbafe82',
          name: 'Bea Renamed',
          email_verified: true,
          ...bcryptFields('bea new password', 4),
        },
        { email: 'new-by-upsert@example.com', password: 'brand new password' },
        // Same username, another id: another user, refused.
        { email: 'scrypt-hex@example.com', user_id: 'someone-else', password: 'hijack attempt 1' },
        // An id that is another user's.
        { email: 'fresh@example.com', user_id: othersId, password: 'hijack attempt 2' },
      ]),
    });
    expect(upsert).toMatchObject({ imported: 1, updated: 1, skipped: 0, rejected: 2, failed: 0 });
    expect(upsert.rejections.map(({ row, code }) => [row, code])).toEqual([
      [3, 'user_id_conflict'],
      [4, 'user_id_conflict'],
    ]);
    const after = await stored('bcrypt-2a@example.com');
    expect(after).toMatchObject({
      user_id: before.user_id,
      created_at: before.created_at,
      logins_count: before.logins_count,
      name: 'Bea Renamed',
      email_verified: true,
    });
    expect(after.password_hash).toMatch(/^\$2b\$04\$/);
    expect((await login('bcrypt-2a@example.com', 'bcrypt 2a password')).status).toBe(400);
    expect((await login('bcrypt-2a@example.com', 'bea new password')).status).toBe(200);
    expect((await login('new-by-upsert@example.com', 'brand new password')).status).toBe(200);
    expect((await login('scrypt-hex@example.com', 'scrypt hex password')).status).toBe(200);
  });
});
