import type { RealmConfig } from '../../config/schema.ts';
import type { UserRecord } from '../ports.ts';

/**
 * Whether a right password must be followed by a second factor: always under `required` (a user
 * without one enrols with the `mfa_token`), under `enrolled` only for users who have an
 * authenticator: confirmed, or associated from the app with an `enroll` access token, which the
 * next login confirms with its first code (`mfa_active` false). Decided from the user item the
 * login read anyway.
 */
export function secondFactorNeeded(realm: RealmConfig, user: UserRecord): boolean {
  if (realm.mfa.policy === 'required') return true;
  return realm.mfa.policy === 'enrolled' && user.mfa_active !== undefined;
}
