import { z } from 'zod';
import type { RealmConfig } from '../config/schema.ts';
import {
  formatPbkdf2,
  formatScrypt,
  type PasswordHashAlgorithm,
  parsePasswordHash,
  scryptParametersProblem,
} from '../oauth/passwords/hash-format.ts';
import { usernameKey, usernameProblem } from '../oauth/passwords/normalize.ts';
import { passwordLengthProblem } from '../oauth/passwords/policy.ts';
import { AdminError } from './user-admin.ts';

/**
 * Auth0's bulk-import user format (one JSON object per user), read into what passgate stores.
 * Fields used: email, email_verified, username, name, user_id, blocked, password_hash,
 * custom_password_hash, plus `password` (plain text; not an Auth0 field, ours). Other Auth0
 * fields (given_name, picture, app_metadata, …) are accepted and ignored.
 */

/** One entry of the file: its row number (array position or line number, from 1) and its JSON. */
export interface ImportRow {
  readonly row: number;
  readonly value?: unknown;
  /** Set when a JSON Lines line is not valid JSON: why, without quoting the line. */
  readonly parseError?: string;
}

export type RejectionCode =
  | 'invalid_row'
  | 'invalid_email'
  | 'invalid_username'
  | 'invalid_user_id'
  | 'missing_password'
  | 'weak_password'
  | 'unsupported_algorithm'
  | 'malformed_hash'
  | 'duplicate_in_file'
  | 'user_id_conflict'
  | 'email_conflict'
  | 'slow_hash';

export interface Rejection {
  readonly row: number;
  readonly code: RejectionCode;
  readonly reason: string;
  readonly username?: string;
}

/** A row that passed every check that needs no store: ready to be hashed and written. */
export interface ImportCandidate {
  readonly row: number;
  /** From the file (Auth0's `auth0|` strategy prefix removed), or undefined for a new id. */
  readonly userId?: string;
  readonly username: string;
  readonly usernameKey: string;
  readonly email?: string;
  readonly emailVerified: boolean;
  readonly name?: string;
  readonly blocked: boolean;
  readonly secret:
    | { readonly kind: 'plain'; readonly password: string }
    | { readonly kind: 'hash'; readonly hash: string; readonly algorithm: PasswordHashAlgorithm };
}

/**
 * A JSON array of users, or JSON Lines (one user per line; blank lines skipped). A broken array
 * fails the whole file; a broken line rejects that row only.
 */
/**
 * Why JSON.parse refused a text, without quoting it: V8's messages quote the input around the
 * error, which in a user file may be a password or a hash. Only the position is kept.
 */
function jsonProblem(error: unknown): string {
  const position = /at position (\d+)/.exec(String((error as Error)?.message))?.[1];
  return position === undefined ? 'not valid JSON' : `not valid JSON at character ${Number(position) + 1}`;
}

export function parseUserFile(text: string, source = 'the file'): ImportRow[] {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('[')) {
    let document: unknown;
    try {
      document = JSON.parse(body);
    } catch (error) {
      throw new AdminError(`${source} is not a valid JSON array: ${jsonProblem(error)}`);
    }
    if (!Array.isArray(document)) throw new AdminError(`${source} is not a JSON array of users`);
    return document.map((value, i) => ({ row: i + 1, value }));
  }
  const rows: ImportRow[] = [];
  body.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push({ row: i + 1, value: JSON.parse(line) });
    } catch (error) {
      rows.push({ row: i + 1, parseError: jsonProblem(error) });
    }
  });
  return rows;
}

class RowProblem extends Error {
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
  }
}

const emailSchema = z.email();
/** Fast, unsalted or reversible schemes Auth0 accepts that we refuse to keep (docs/migrating-users.md, "Hashes kept as they are"). */
const FAST_HASHES = new Set(['md4', 'md5', 'sha1', 'sha256', 'sha512', 'hmac', 'ldap']);
/** Visible ASCII: user ids go into keys and into `sub` (`<realm>|<user id>`). */
const USER_ID = /^[\x21-\x7E]{1,128}$/;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function field<T extends 'string' | 'boolean'>(
  user: Json,
  name: string,
  type: T,
): (T extends 'string' ? string : boolean) | undefined {
  const value = user[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw new RowProblem('invalid_row', `"${name}" must be a ${type}`);
  return value as T extends 'string' ? string : boolean;
}

/** Auth0: hex (either case), base64 (standard or URL-safe, padding optional) or utf8. */
function decode(value: string, encoding: unknown, what: string): Buffer {
  if (encoding === 'hex') {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(value)) throw new RowProblem('malformed_hash', `${what} is not hex`);
    return Buffer.from(value, 'hex');
  }
  if (encoding === 'base64') {
    const bare = value.replace(/={1,2}$/, '');
    if (!/^[A-Za-z0-9+/_-]*$/.test(bare) || bare.length % 4 === 1) {
      throw new RowProblem('malformed_hash', `${what} is not base64`);
    }
    return Buffer.from(bare.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  if (encoding === 'utf8') return Buffer.from(value, 'utf8');
  throw new RowProblem('malformed_hash', `${what} encoding must be hex, base64 or utf8`);
}

/** A PHC or bcrypt string as it will be stored, checked by the same parser that verifies it. */
function storedHash(value: string, expected?: PasswordHashAlgorithm[]): ImportCandidate['secret'] {
  const parsed = parsePasswordHash(value);
  if (typeof parsed === 'string') {
    const unknown = /^unknown algorithm|not supported|refused/.test(parsed);
    throw new RowProblem(unknown ? 'unsupported_algorithm' : 'malformed_hash', parsed);
  }
  if (expected && !expected.includes(parsed.algorithm)) {
    throw new RowProblem('malformed_hash', `hash.value is a ${parsed.algorithm} hash, not ${expected[0]}`);
  }
  return { kind: 'hash', hash: value, algorithm: parsed.algorithm };
}

function scryptHash(custom: Json, hash: Json, value: string): ImportCandidate['secret'] {
  if (hash.encoding !== 'hex' && hash.encoding !== 'base64') {
    throw new RowProblem('malformed_hash', 'scrypt: hash.encoding must be hex or base64');
  }
  const salt = custom.salt;
  if (!isObject(salt) || typeof salt.value !== 'string') {
    throw new RowProblem('malformed_hash', 'scrypt: salt.value is required');
  }
  // scrypt takes the salt as its own input: a prefix/suffix position would mean another algorithm.
  if (salt.position !== undefined) {
    throw new RowProblem('malformed_hash', 'scrypt: salt.position does not apply to scrypt');
  }
  const key = decode(value, hash.encoding, 'hash.value');
  const saltBytes = decode(salt.value, salt.encoding ?? 'utf8', 'salt.value');
  const integer = (name: string, fallback: number) => {
    const given = custom[name] ?? fallback;
    if (!Number.isSafeInteger(given))
      throw new RowProblem('malformed_hash', `scrypt: ${name} must be an integer`);
    return given as number;
  };
  const keylen = integer('keylen', key.length);
  if (keylen !== key.length) {
    throw new RowProblem('malformed_hash', `scrypt: keylen is ${keylen} but the hash is ${key.length} bytes`);
  }
  const cost = integer('cost', 16384);
  const blockSize = integer('blockSize', 8);
  const parallelization = integer('parallelization', 1);
  const problem = scryptParametersProblem(cost, blockSize, parallelization);
  if (problem) throw new RowProblem('malformed_hash', problem);
  return storedHash(formatScrypt(cost, blockSize, parallelization, saltBytes, key), ['scrypt']);
}

/** Auth0's `custom_password_hash` → the PHC string passgate stores. */
function customHash(custom: unknown): ImportCandidate['secret'] {
  if (!isObject(custom) || typeof custom.algorithm !== 'string') {
    throw new RowProblem('invalid_row', '"custom_password_hash" must be an object with an "algorithm"');
  }
  const algorithm = custom.algorithm;
  if (FAST_HASHES.has(algorithm)) {
    throw new RowProblem(
      'unsupported_algorithm',
      `algorithm "${algorithm}" is refused: a fast hash, guessed at billions a second once leaked`,
    );
  }
  if (!['argon2', 'bcrypt', 'pbkdf2', 'scrypt'].includes(algorithm)) {
    throw new RowProblem('unsupported_algorithm', `unknown algorithm "${algorithm}"`);
  }
  const hash = custom.hash;
  if (!isObject(hash) || typeof hash.value !== 'string') {
    throw new RowProblem('malformed_hash', 'custom_password_hash.hash.value is required');
  }
  const passwordEncoding = isObject(custom.password) ? custom.password.encoding : undefined;
  if (passwordEncoding !== undefined && passwordEncoding !== 'utf8') {
    throw new RowProblem(
      'unsupported_algorithm',
      `password.encoding "${String(passwordEncoding)}" is not supported (utf8 only)`,
    );
  }
  if (algorithm === 'scrypt') return scryptHash(custom, hash, hash.value);
  // argon2, bcrypt, pbkdf2: the whole hash is one self-describing string (Auth0: utf8, no salt).
  if (hash.encoding !== undefined && hash.encoding !== 'utf8') {
    throw new RowProblem('malformed_hash', `${algorithm}: hash.encoding must be utf8`);
  }
  if (custom.salt !== undefined) {
    throw new RowProblem('malformed_hash', `${algorithm}: the salt belongs inside hash.value`);
  }
  if (algorithm === 'argon2') return storedHash(hash.value, ['argon2id', 'argon2i', 'argon2d']);
  if (algorithm === 'bcrypt') return storedHash(hash.value, ['bcrypt']);
  // PBKDF2: stored with explicit i= and l=, since Auth0 lets both default (100000, 64).
  const parsed = storedHash(hash.value, ['pbkdf2']);
  const pbkdf2 = parsePasswordHash(hash.value);
  if (typeof pbkdf2 === 'string' || pbkdf2.algorithm !== 'pbkdf2') return parsed;
  return storedHash(formatPbkdf2(pbkdf2.digest, pbkdf2.iterations, pbkdf2.salt, pbkdf2.hash), ['pbkdf2']);
}

function readUser(value: unknown, realm: RealmConfig): Omit<ImportCandidate, 'row'> {
  if (!isObject(value)) throw new RowProblem('invalid_row', 'not a JSON object');
  const email = field(value, 'email', 'string');
  if (email !== undefined && !emailSchema.safeParse(email).success) {
    throw new RowProblem('invalid_email', `invalid email "${email}"`);
  }
  // Our logins are by username; Auth0 database users may have only an email, which then is it.
  const username = field(value, 'username', 'string') ?? email;
  if (username === undefined) throw new RowProblem('invalid_username', 'no username and no email');
  const usernameIssue = usernameProblem(username);
  if (usernameIssue) throw new RowProblem('invalid_username', usernameIssue);

  const rawId = field(value, 'user_id', 'string');
  const userId = rawId?.replace(/^auth0\|/, '');
  if (userId !== undefined && !USER_ID.test(userId)) {
    throw new RowProblem('invalid_user_id', 'user_id must be 1-128 visible ASCII characters');
  }

  const password = field(value, 'password', 'string');
  const passwordHash = field(value, 'password_hash', 'string');
  const custom = value.custom_password_hash ?? undefined;
  const given = [password, passwordHash, custom].filter((secret) => secret !== undefined).length;
  if (given === 0) {
    throw new RowProblem('missing_password', 'no password, password_hash or custom_password_hash');
  }
  if (given > 1) {
    throw new RowProblem('invalid_row', 'give only one of password, password_hash and custom_password_hash');
  }
  let secret: ImportCandidate['secret'];
  if (password !== undefined) {
    // Imported passwords keep to the realm's lengths only: like imported hashes, they are the
    // users' existing passwords, not new ones (the blocklist screens them at their next change).
    const problem = passwordLengthProblem(password, realm.passwordPolicy.minLength);
    if (problem)
      throw new RowProblem('weak_password', `password breaks the realm's policy: ${problem.message}`);
    secret = { kind: 'plain', password };
  } else if (passwordHash !== undefined) {
    // Auth0 takes bcrypt here; any format passgate verifies is welcome.
    secret = storedHash(passwordHash);
  } else {
    secret = customHash(custom);
  }

  const name = field(value, 'name', 'string');
  return {
    ...(userId === undefined ? {} : { userId }),
    username: username.normalize('NFKC'),
    usernameKey: usernameKey(username),
    ...(email === undefined ? {} : { email }),
    emailVerified: field(value, 'email_verified', 'boolean') ?? false,
    ...(name === undefined ? {} : { name }),
    blocked: field(value, 'blocked', 'boolean') ?? false,
    secret,
  };
}

/** One row checked on its own (duplicates across rows are the importer's job). */
export function readImportRow(row: ImportRow, realm: RealmConfig): ImportCandidate | Rejection {
  if (row.parseError !== undefined) {
    return { row: row.row, code: 'invalid_row', reason: row.parseError };
  }
  try {
    return { row: row.row, ...readUser(row.value, realm) };
  } catch (error) {
    if (!(error instanceof RowProblem)) throw error;
    const value = isObject(row.value) ? row.value : {};
    const name = [value.username, value.email].find((candidate) => typeof candidate === 'string');
    return {
      row: row.row,
      code: error.code,
      reason: error.message,
      ...(typeof name === 'string' ? { username: name } : {}),
    };
  }
}

export const isRejection = (result: ImportCandidate | Rejection): result is Rejection => 'code' in result;
