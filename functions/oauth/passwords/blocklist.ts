import { foldForBlocklist } from './normalize.ts';

/** A list of passwords the policy refuses (NIST SP 800-63B §3.1.1.2: common, expected or breached). */
export interface PasswordBlocklist {
  /** `password` is NFKC-normalised, as it would be hashed. */
  has(password: string): Promise<boolean>;
}

let sorted: Promise<readonly string[]> | undefined;

/**
 * The list's module is loaded on first use only: 0.9 MB that every CLI command and function that
 * never sets a password would otherwise parse at start.
 */
const list = () => {
  sorted ??= import('./common-passwords.generated.ts').then(({ COMMON_PASSWORDS }) =>
    COMMON_PASSWORDS.split('\n'),
  );
  return sorted;
};

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
 * one sorted string, split into an array at its first use.
 */
export const commonPasswords: PasswordBlocklist & { readonly size: () => Promise<number> } = {
  async has(password) {
    return sortedHas(await list(), foldForBlocklist(password));
  },
  async size() {
    return (await list()).length;
  },
};
