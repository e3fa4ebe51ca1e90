/**
 * Real password hashes as other systems make them, for import tests: bcrypt with bcryptjs,
 * PBKDF2 and scrypt with node:crypto, argon2i and older argon2id with @node-rs/argon2.
 * Each builder returns the Auth0 bulk-import fields that carry the hash.
 */
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as argon2 } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

type Fields = Record<string, unknown>;

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

export function bcryptFields(password: string, cost = 10, prefix: '$2a$' | '$2b$' | '$2y$' = '$2b$'): Fields {
  // bcryptjs writes $2b$; $2a$ and $2y$ name the same computation for these passwords.
  return { password_hash: bcrypt.hashSync(password, cost).replace(/^\$2b\$/, prefix) };
}

export function bcryptCustomFields(password: string): Fields {
  return {
    custom_password_hash: {
      algorithm: 'bcrypt',
      hash: { value: bcrypt.hashSync(password, 8), encoding: 'utf8' },
    },
  };
}

/** Auth0's PBKDF2 form: a PHC string with i= and l=, or with both left to Auth0's defaults. */
export function pbkdf2Fields(
  password: string,
  digest: 'sha1' | 'sha256' | 'sha512',
  options: { iterations?: number; keylen?: number; omitParameters?: boolean } = {},
): Fields {
  const iterations = options.omitParameters ? 100_000 : (options.iterations ?? 10_000);
  const keylen = options.omitParameters ? 64 : (options.keylen ?? 32);
  const salt = randomBytes(16);
  const derived = pbkdf2Sync(password, salt, iterations, keylen, digest);
  const params = options.omitParameters ? '' : `$i=${iterations},l=${keylen}`;
  return {
    custom_password_hash: {
      algorithm: 'pbkdf2',
      hash: { value: `$pbkdf2-${digest}${params}$${b64(salt)}$${b64(derived)}`, encoding: 'utf8' },
    },
  };
}

/** Auth0's scrypt form: the derived key and the salt apart, each with its encoding. */
export function scryptFields(
  password: string,
  options: {
    cost?: number;
    blockSize?: number;
    parallelization?: number;
    hashEncoding?: 'hex' | 'base64';
    saltEncoding?: 'hex' | 'base64' | 'utf8';
    omitParameters?: boolean;
  } = {},
): Fields {
  const cost = options.cost ?? 16384;
  const blockSize = options.blockSize ?? 8;
  const parallelization = options.parallelization ?? 1;
  const saltEncoding = options.saltEncoding ?? 'base64';
  const salt = saltEncoding === 'utf8' ? Buffer.from(randomBytes(12).toString('hex')) : randomBytes(16);
  const derived = scryptSync(password, salt, 64, { N: cost, r: blockSize, p: parallelization });
  const hashEncoding = options.hashEncoding ?? 'hex';
  return {
    custom_password_hash: {
      algorithm: 'scrypt',
      hash: { value: derived.toString(hashEncoding), encoding: hashEncoding },
      salt: { value: salt.toString(saltEncoding), encoding: saltEncoding },
      ...(options.omitParameters ? {} : { keylen: 64, cost, blockSize, parallelization }),
    },
  };
}

const ARGON2I = 1;
const ARGON2ID = 2;

export async function argon2Fields(
  password: string,
  variant: 'argon2i' | 'argon2id',
  parameters = { memoryCost: 4096, timeCost: 3, parallelism: 1 },
): Promise<Fields> {
  const value = await argon2(password, {
    algorithm: variant === 'argon2i' ? ARGON2I : ARGON2ID,
    ...parameters,
  });
  return { custom_password_hash: { algorithm: 'argon2', hash: { value, encoding: 'utf8' } } };
}
