import type { UserRecord } from '../ports.ts';
import type { Services } from '../services.ts';

/**
 * After a successful verify, a hash that is not argon2id with the current parameters (an imported
 * bcrypt, PBKDF2, scrypt or argon2i hash, or argon2id with older parameters) is replaced by a
 * fresh one, so the user's next login is on argon2id. The write is conditional on the stored hash
 * still being the one just verified: a password changed meanwhile is never overwritten. A failure
 * here never fails the login; the next login simply tries again.
 */
export async function upgradePasswordHashIfOutdated(
  services: Services,
  user: UserRecord,
  password: string,
): Promise<void> {
  if (!services.hasher.needsRehash(user.password_hash)) return;
  const fields = { realm: user.realm, user_id: user.user_id };
  try {
    const upgraded = await services.hasher.hash(password);
    const stored = await services.users.upgradePasswordHash(user, user.password_hash, upgraded);
    services.logger.log(
      'info',
      stored ? 'password hash upgraded to argon2id' : 'password hash upgrade skipped: changed meanwhile',
      fields,
    );
  } catch (error) {
    services.logger.log('warn', 'password hash upgrade failed', {
      ...fields,
      error: (error as Error)?.name ?? 'error',
    });
  }
}
