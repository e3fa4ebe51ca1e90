import { hash, verify } from '@node-rs/argon2';
import { defaults } from '../../config/defaults.ts';
import { dummyHashOf, hashCostClass, parsePasswordHash } from '../../oauth/passwords/hash-format.ts';
import type { PasswordHasher } from '../../oauth/ports.ts';
import type { Argon2WorkerPool } from './argon2-worker-pool.ts';
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
  /**
   * What unknown users are verified against: an argon2id PHC string with the same parameters as
   * real hashes, so it costs the same to verify, but random salt and output, so no password
   * matches it. Made without hashing: the first unknown-user login after a cold start is no slower
   * than the next (a hash made on first use would cost one more argon2id run, and show).
   */
  private readonly dummyHash: string;
  readonly currentCostClass: string;

  /** `pool`: hash on these worker threads instead of libuv's pool (bulk imports). */
  constructor(
    private readonly parameters: Argon2Parameters = defaults.argon2,
    private readonly pool?: Argon2WorkerPool,
  ) {
    const { memoryCost: m, timeCost: t, parallelism: p } = parameters;
    // @node-rs/argon2 writes a 32-byte output.
    this.currentCostClass = `$argon2id$v=${CURRENT_VERSION}$m=${m},t=${t},p=${p}$32`;
    this.dummyHash = dummyHashOf(this.currentCostClass) as string;
  }

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
        // bcryptjs is a fifth of the token bundle and only imported users' first logins need it:
        // the bundle keeps it in a chunk of its own, which a cold start does not load.
        case 'bcrypt':
          return await (await import('./bcrypt-verifier.ts')).verifyBcrypt(passwordHash, password);
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

  costClassOf(passwordHash: string): string | undefined {
    return hashCostClass(passwordHash);
  }

  async verifyDummy(password: string, costClass = this.currentCostClass): Promise<false> {
    const dummy = costClass === this.currentCostClass ? this.dummyHash : dummyHashOf(costClass);
    if (dummy !== undefined) await this.verify(dummy, password);
    return false;
  }
}
