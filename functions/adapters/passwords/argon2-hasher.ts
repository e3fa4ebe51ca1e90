import { hash, verify } from '@node-rs/argon2';
import { defaults } from '../../config/defaults.ts';
import type { PasswordHasher } from '../../oauth/ports.ts';

/** `Algorithm.Argon2id` of @node-rs/argon2, an ambient const enum that isolated modules cannot import. */
const ARGON2ID = 2;

export interface Argon2Parameters {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/**
 * argon2id (RFC 9106) PHC strings via @node-rs/argon2, which hashes on libuv's thread pool so
 * the event loop keeps serving while a login is being verified.
 */
export class Argon2Hasher implements PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly parameters: Argon2Parameters = defaults.argon2) {}

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, ...this.parameters });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // a malformed stored hash never verifies
    }
  }

  async verifyDummy(password: string): Promise<false> {
    // Made once per process with the same parameters as real hashes, so it costs the same to verify.
    this.dummyHash ??= this.hash('passgate-dummy-password-for-unknown-users');
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
