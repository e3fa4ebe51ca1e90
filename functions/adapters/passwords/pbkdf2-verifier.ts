import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Pbkdf2Digest } from '../../oauth/passwords/hash-format.ts';

const pbkdf2Async = promisify(pbkdf2);

/** PBKDF2-HMAC (RFC 8018 §5.2) with node:crypto on libuv's thread pool; compared in constant time. */
export async function verifyPbkdf2(
  stored: { digest: Pbkdf2Digest; iterations: number; salt: Buffer; hash: Buffer },
  password: string,
): Promise<boolean> {
  const derived = await pbkdf2Async(
    Buffer.from(password, 'utf8'),
    stored.salt,
    stored.iterations,
    stored.hash.length,
    stored.digest,
  );
  return timingSafeEqual(derived, stored.hash);
}
