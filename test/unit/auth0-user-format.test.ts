import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ImportCandidate,
  parseUserFile,
  type Rejection,
  readImportRow,
} from '../../functions/admin/auth0-user-format.ts';
import { AdminError } from '../../functions/admin/user-admin.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { testConfig } from '../helpers/config.ts';
import { pbkdf2Fields, scryptFields } from '../helpers/legacy-hashes.ts';

const realm = parseConfig(testConfig()).realms[0] as ReturnType<typeof parseConfig>['realms'][number];
const BCRYPT = '$2a$10$0123456789012345678901uAbCdEfGhIjKlMnOpQrStUvWxYz0123';

const read = (value: unknown) => readImportRow({ row: 7, value }, realm);
const accepted = (value: unknown) => {
  const result = read(value);
  if ('code' in result) throw new Error(`rejected: ${result.reason}`);
  return result as ImportCandidate;
};
const rejected = (value: unknown) => {
  const result = read(value);
  if (!('code' in result)) throw new Error('accepted');
  return result as Rejection;
};

describe('reading the users file', () => {
  it('reads a JSON array, numbering rows from 1', () => {
    expect(parseUserFile('[{"email":"a@example.com"},{"email":"b@example.com"}]')).toEqual([
      { row: 1, value: { email: 'a@example.com' } },
      { row: 2, value: { email: 'b@example.com' } },
    ]);
  });

  it('reads JSON Lines by line number, skipping blank lines, with CRLF and a BOM', () => {
    expect(
      parseUserFile('\uFEFF{"email":"a@example.com"}\r\n\r\n{"email":"b@example.com"}\nnot json\n'),
    ).toEqual([
      { row: 1, value: { email: 'a@example.com' } },
      { row: 3, value: { email: 'b@example.com' } },
      { row: 4, parseError: expect.stringContaining('not valid JSON') },
    ]);
    expect(readImportRow({ row: 4, parseError: 'not valid JSON' }, realm)).toEqual({
      row: 4,
      code: 'invalid_row',
      reason: 'not valid JSON',
    });
  });

  it('never quotes a broken row or file back: it may hold a password', () => {
    const secret = 'Sup3rS3cretPassw0rd';
    const [line] = parseUserFile(`{"email":"a@example.com","password":'${secret}'}\n`);
    expect(line).toEqual({ row: 1, parseError: expect.stringMatching(/^not valid JSON/) });
    expect(JSON.stringify(line)).not.toMatch(/Sup3r|S3cret|Passw0rd/);
    let message = '';
    try {
      parseUserFile(`[{"email":"a@example.com","password":'${secret}'}]`, 'users.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^users\.json is not a valid JSON array: not valid JSON/);
    expect(message).not.toMatch(/Sup3r|S3cret|Passw0rd/);
  });

  it('refuses a broken JSON array as a whole', () => {
    expect(() => parseUserFile('[{"email":', 'users.json')).toThrow(AdminError);
    expect(() => parseUserFile('[{"email":', 'users.json')).toThrow(
      /^users\.json is not a valid JSON array: /,
    );
    expect(parseUserFile('')).toEqual([]);
  });
});

describe('reading one Auth0 user', () => {
  it('takes the email as the username when there is none, and keeps both when given', () => {
    expect(accepted({ email: 'Ann@Example.com', password_hash: BCRYPT })).toMatchObject({
      row: 7,
      username: 'Ann@Example.com',
      usernameKey: 'ann@example.com',
      email: 'Ann@Example.com',
      emailVerified: false,
      blocked: false,
      secret: { kind: 'hash', hash: BCRYPT, algorithm: 'bcrypt' },
    });
    expect(accepted({ email: 'ann@example.com', username: 'ＡＮＮ', password: 'long enough' })).toMatchObject(
      {
        username: 'ANN',
        usernameKey: 'ann',
        secret: { kind: 'plain', password: 'long enough' },
      },
    );
  });

  it("keeps Auth0's user_id without the auth0| strategy prefix", () => {
    expect(accepted({ email: 'a@example.com', user_id: 'auth0|abc123', password_hash: BCRYPT }).userId).toBe(
      'abc123',
    );
    expect(accepted({ email: 'a@example.com', user_id: 'legacy-42', password_hash: BCRYPT }).userId).toBe(
      'legacy-42',
    );
    expect(rejected({ email: 'a@example.com', user_id: 'has space', password_hash: BCRYPT })).toEqual({
      row: 7,
      code: 'invalid_user_id',
      reason: 'user_id must be 1-128 visible ASCII characters',
      username: 'a@example.com',
    });
  });

  it('ignores Auth0 fields it does not store, and null fields', () => {
    expect(
      accepted({
        email: 'a@example.com',
        given_name: 'A',
        app_metadata: { plan: 'gold' },
        name: null,
        password_hash: BCRYPT,
      }).name,
    ).toBeUndefined();
  });

  it.each([
    [[], 'invalid_row', 'not a JSON object'],
    [
      { email: 'a@example.com', email_verified: 'yes', password: 'long enough' },
      'invalid_row',
      '"email_verified" must be a boolean',
    ],
    [{ email: 42, password: 'long enough' }, 'invalid_row', '"email" must be a string'],
    [{ email: 'nope', password: 'long enough' }, 'invalid_email', 'invalid email "nope"'],
    [{ password: 'long enough' }, 'invalid_username', 'no username and no email'],
    [
      { username: ' padded', password: 'long enough' },
      'invalid_username',
      'username must not start or end with white space',
    ],
    [{ email: 'a@example.com' }, 'missing_password', 'no password, password_hash or custom_password_hash'],
    [
      { email: 'a@example.com', password: 'long enough', password_hash: BCRYPT },
      'invalid_row',
      'give only one of password, password_hash and custom_password_hash',
    ],
    [
      { email: 'a@example.com', password: 'short' },
      'weak_password',
      "password breaks the realm's policy: password must be at least 8 characters",
    ],
    [
      { email: 'a@example.com', password_hash: '5f4dcc3b5aa765d61d8327deb882cf99' },
      'malformed_hash',
      'not a PHC string ($<algorithm>$…)',
    ],
    [
      { email: 'a@example.com', password_hash: '$sha1$abc' },
      'unsupported_algorithm',
      'unknown algorithm "sha1"',
    ],
  ])('rejects %j as %s', (value, code, reason) => {
    expect(read(value)).toMatchObject({ row: 7, code, reason });
  });
});

describe("reading Auth0's custom_password_hash", () => {
  const custom = (custom_password_hash: unknown) => ({ email: 'a@example.com', custom_password_hash });

  it('stores PBKDF2 with explicit i= and l=, even where Auth0 let them default', () => {
    const result = accepted({
      email: 'a@example.com',
      ...pbkdf2Fields('pw', 'sha512', { omitParameters: true }),
    });
    expect(result.secret).toMatchObject({ kind: 'hash', algorithm: 'pbkdf2' });
    expect((result.secret as { hash: string }).hash).toMatch(
      /^\$pbkdf2-sha512\$i=100000,l=64\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/,
    );
  });

  it('stores scrypt as a PHC string, from hex or base64 (standard or URL-safe) and any salt encoding', () => {
    const salt = randomBytes(16);
    const key = scryptSync('pw', salt, 32, { N: 2048, r: 8, p: 1 });
    const expected = `$scrypt$ln=11,r=8,p=1$${salt.toString('base64').replace(/=+$/, '')}$${key.toString('base64').replace(/=+$/, '')}`;
    for (const [hash, saltField] of [
      [
        { value: key.toString('hex').toUpperCase(), encoding: 'hex' },
        { value: salt.toString('hex'), encoding: 'hex' },
      ],
      [
        { value: key.toString('base64url'), encoding: 'base64' },
        { value: salt.toString('base64'), encoding: 'base64' },
      ],
    ]) {
      expect(
        accepted(custom({ algorithm: 'scrypt', hash, salt: saltField, keylen: 32, cost: 2048 })).secret,
      ).toEqual({
        kind: 'hash',
        hash: expected,
        algorithm: 'scrypt',
      });
    }
    expect(
      accepted({
        email: 'a@example.com',
        ...scryptFields('pw', { saltEncoding: 'utf8', omitParameters: true }),
      }).secret,
    ).toMatchObject({
      algorithm: 'scrypt',
      hash: expect.stringMatching(/^\$scrypt\$ln=14,r=8,p=1\$/),
    });
  });

  it.each([
    [
      { algorithm: 'md5', hash: { value: 'x', encoding: 'hex' } },
      'unsupported_algorithm',
      'algorithm "md5" is refused: a fast hash, guessed at billions a second once leaked',
    ],
    [
      { algorithm: 'sha256', hash: { value: 'x', encoding: 'hex' } },
      'unsupported_algorithm',
      'algorithm "sha256" is refused: a fast hash, guessed at billions a second once leaked',
    ],
    [
      { algorithm: 'hmac', hash: { value: 'x', encoding: 'hex' } },
      'unsupported_algorithm',
      'algorithm "hmac" is refused: a fast hash, guessed at billions a second once leaked',
    ],
    [
      { algorithm: 'yescrypt', hash: { value: 'x' } },
      'unsupported_algorithm',
      'unknown algorithm "yescrypt"',
    ],
    ['bcrypt', 'invalid_row', '"custom_password_hash" must be an object with an "algorithm"'],
    [{ algorithm: 'bcrypt' }, 'malformed_hash', 'custom_password_hash.hash.value is required'],
    [
      { algorithm: 'bcrypt', hash: { value: BCRYPT, encoding: 'base64' } },
      'malformed_hash',
      'bcrypt: hash.encoding must be utf8',
    ],
    [
      { algorithm: 'argon2', hash: { value: BCRYPT } },
      'malformed_hash',
      'hash.value is a bcrypt hash, not argon2id',
    ],
    [
      { algorithm: 'argon2', hash: { value: '$argon2id$x' }, salt: { value: 's' } },
      'malformed_hash',
      'argon2: the salt belongs inside hash.value',
    ],
    [
      { algorithm: 'bcrypt', hash: { value: BCRYPT }, password: { encoding: 'latin1' } },
      'unsupported_algorithm',
      'password.encoding "latin1" is not supported (utf8 only)',
    ],
    [
      { algorithm: 'scrypt', hash: { value: 'ab'.repeat(32), encoding: 'utf8' }, salt: { value: 's' } },
      'malformed_hash',
      'scrypt: hash.encoding must be hex or base64',
    ],
    [
      { algorithm: 'scrypt', hash: { value: 'ab'.repeat(32), encoding: 'hex' } },
      'malformed_hash',
      'scrypt: salt.value is required',
    ],
    [
      { algorithm: 'scrypt', hash: { value: 'xyz', encoding: 'hex' }, salt: { value: 's' } },
      'malformed_hash',
      'hash.value is not hex',
    ],
    [
      {
        algorithm: 'scrypt',
        hash: { value: 'ab'.repeat(32), encoding: 'hex' },
        salt: { value: 's', position: 'prefix' },
      },
      'malformed_hash',
      'scrypt: salt.position does not apply to scrypt',
    ],
    [
      {
        algorithm: 'scrypt',
        hash: { value: 'ab'.repeat(32), encoding: 'hex' },
        salt: { value: 's' },
        keylen: 64,
      },
      'malformed_hash',
      'scrypt: keylen is 64 but the hash is 32 bytes',
    ],
    [
      {
        algorithm: 'scrypt',
        hash: { value: 'ab'.repeat(32), encoding: 'hex' },
        salt: { value: 's' },
        cost: '16384',
      },
      'malformed_hash',
      'scrypt: cost must be an integer',
    ],
    [
      { algorithm: 'scrypt', hash: { value: 'ab'.repeat(8), encoding: 'hex' }, salt: { value: 's' } },
      'malformed_hash',
      'scrypt: the hash is 8 bytes (16 to 1024 accepted)',
    ],
    [
      { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-whirlpool$i=1,l=16$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA' } },
      'unsupported_algorithm',
      'PBKDF2 with whirlpool is refused: a broken digest',
    ],
  ])('rejects %j as %s', (value, code, reason) => {
    expect(read(custom(value))).toMatchObject({ code, reason });
  });
});
