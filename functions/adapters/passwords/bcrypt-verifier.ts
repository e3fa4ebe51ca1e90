import bcrypt from 'bcryptjs';

/**
 * bcrypt ($2a$, $2b$, $2y$) through bcryptjs: pure JavaScript, so nothing to build natively. It
 * works in slices between event-loop turns, so other requests keep being served meanwhile; each
 * user pays it once, before the login upgrades the hash to argon2id.
 */
export async function verifyBcrypt(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await bcrypt.compare(password, passwordHash);
  } catch {
    return false;
  }
}
