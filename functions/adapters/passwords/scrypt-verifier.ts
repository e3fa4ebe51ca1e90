import { type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { defaults } from '../../config/defaults.ts';

function scryptAsync(
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** scrypt (RFC 7914) with node:crypto on libuv's thread pool; compared in constant time. */
export async function verifyScrypt(
  stored: { cost: number; blockSize: number; parallelization: number; salt: Buffer; hash: Buffer },
  password: string,
): Promise<boolean> {
  const derived = await scryptAsync(Buffer.from(password, 'utf8'), stored.salt, stored.hash.length, {
    N: stored.cost,
    r: stored.blockSize,
    p: stored.parallelization,
    // node:crypto refuses more than 32 MiB by default; the format's bound is checked on import.
    maxmem: defaults.importedHashLimits.scrypt.maxMemoryBytes + 1024 * 1024,
  });
  return timingSafeEqual(derived, stored.hash);
}
