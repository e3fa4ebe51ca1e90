import type { RealmConfig } from '../../config/schema.ts';
import { usernameKey } from '../passwords/normalize.ts';
import type { UserRecord, UserStore } from '../ports.ts';

/**
 * Where users sign in with a username of their own (`signup.requireUsername`), an address belongs
 * to one account per realm: the account that claimed it (UserStore.claimEmail), whether it signed
 * up, was created by an operator or was imported. Password reset finds the account by its claim.
 * Elsewhere the address is the username, unique by itself: nothing to claim.
 */
export const claimsAddresses = (realm: Pick<RealmConfig, 'signup'>) => realm.signup.requireUsername;

/** The key an address is claimed under: the username rules' normal form, as a username's. */
export const addressKey = (email: string) => usernameKey(email);

/** Thrown when two writers took over one stale claim at the same moment: one of them retries. */
export class AddressClaimRace extends Error {
  constructor() {
    super('the address was claimed by another account at the same moment');
  }
}

/**
 * Claims the address for `userId`; the user who holds it, if another live user does. A claim whose
 * user is gone (a sign-up cut off before it wrote its user, a deleted user) or whose user has
 * another address by now is taken over.
 */
export async function claimAddress(
  users: Pick<UserStore, 'claimEmail' | 'findById'>,
  realm: string,
  emailKey: string,
  userId: string,
): Promise<UserRecord | undefined> {
  const holderId = await users.claimEmail(realm, emailKey, userId);
  if (holderId === undefined) return undefined;
  const holder = await users.findById(realm, holderId);
  if (holder?.email !== undefined && addressKey(holder.email) === emailKey) return holder;
  if ((await users.claimEmail(realm, emailKey, userId, holderId)) === undefined) return undefined;
  throw new AddressClaimRace();
}
