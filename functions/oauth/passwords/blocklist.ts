import { COMMON_PASSWORDS } from './common-passwords.generated.ts';
import { foldForBlocklist } from './normalize.ts';

/** A list of passwords the policy refuses (NIST SP 800-63B §3.1.1.2: common, expected or breached). */
export interface PasswordBlocklist {
  /** `password` is NFKC-normalised, as it would be hashed. */
  has(password: string): Promise<boolean>;
}

let sorted: readonly string[] | undefined;

/** True when `sortedList` (sorted by UTF-16 code units) holds `entry`: a binary search. */
export function sortedHas(sortedList: readonly string[], entry: string): boolean {
  let low = 0;
  let high = sortedList.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const candidate = sortedList[mid] as string;
    if (candidate === entry) return true;
    if (candidate < entry) low = mid + 1;
    else high = mid;
  }
  return false;
}

/**
 * The built-in list: the 100,000 most common passwords of SecLists (scripts/build-blocklist.ts),
 * one sorted string in the bundle, split into an array at its first use.
 */
export const commonPasswords: PasswordBlocklist & { readonly size: () => number } = {
  async has(password) {
    sorted ??= COMMON_PASSWORDS.split('\n');
    return sortedHas(sorted, foldForBlocklist(password));
  },
  size() {
    sorted ??= COMMON_PASSWORDS.split('\n');
    return sorted.length;
  },
};
