import { hash, verify } from '@node-rs/argon2';
import { defaults } from '../../config/defaults.ts';
import { parsePasswordHash } from '../../oauth/password-hash-format.ts';
import type { PasswordHasher } from '../../oauth/ports.ts';
import type { Argon2WorkerPool } from './argon2-worker-pool.ts';
import { verifyBcrypt } from './bcrypt-verifier.ts';
import { verifyPbkdf2 } from './pbkdf2-verifier.ts';
import { verifyScrypt } from './scrypt-verifier.ts';

/** `Algorithm.Argon2id` of @node-rs/argon2, an ambient const enum that isolated modules cannot import. */
const ARGON2ID = 2;
/** Argon2 version 0x13 (19), the only one @node-rs/argon2 writes. */
const CURRENT_VERSION = 19;

export interface Argon2Parameters {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/**
 * New hashes are argon2id (RFC 9106) PHC strings via @node-rs/argon2, which hashes on libuv's
 * thread pool so the event loop keeps serving while a login is being verified. Verifying
 * dispatches on the stored string's algorithm id, so imported argon2i, bcrypt, PBKDF2 and scrypt
 * hashes keep working until the login re-hashes them (needsRehash).
 */
export class Argon2Hasher implements PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  /** `pool`: hash on these worker threads instead of libuv's pool (bulk imports). */
  constructor(
    private readonly parameters: Argon2Parameters = defaults.argon2,
    private readonly pool?: Argon2WorkerPool,
  ) {}

  hash(password: string): Promise<string> {
    const options = { algorithm: ARGON2ID, ...this.parameters };
    return this.pool ? this.pool.hash(password, options) : hash(password, options);
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    const parsed = parsePasswordHash(passwordHash);
    if (typeof parsed === 'string') return false; // a malformed stored hash never verifies
    try {
      switch (parsed.algorithm) {
        case 'argon2id':
        case 'argon2i':
        case 'argon2d':
          return await verify(passwordHash, password);
        case 'bcrypt':
          return await verifyBcrypt(passwordHash, password);
        case 'pbkdf2':
          return await verifyPbkdf2(parsed, password);
        case 'scrypt':
          return await verifyScrypt(parsed, password);
      }
    } catch {
      return false;
    }
  }

  needsRehash(passwordHash: string): boolean {
    const parsed = parsePasswordHash(passwordHash);
    if (typeof parsed === 'string' || parsed.algorithm !== 'argon2id') return true;
    return (
      parsed.version !== CURRENT_VERSION ||
      parsed.memoryCost !== this.parameters.memoryCost ||
      parsed.timeCost !== this.parameters.timeCost ||
      parsed.parallelism !== this.parameters.parallelism
    );
  }

  async verifyDummy(password: string): Promise<false> {
    // Made once per process with the same parameters as real hashes, so it costs the same to verify.
    this.dummyHash ??= this.hash('passgate-dummy-password-for-unknown-users');
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
