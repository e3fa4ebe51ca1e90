import type { AttemptStore, Mailer, PasswordHasher, SecretSealer } from '../oauth/ports.ts';
import type { Services } from '../oauth/services.ts';

/**
 * What a composition root hands over for a dependency it deliberately did not build: each call
 * fails loudly (a logged server error), never silently. Functions that do not log users in never
 * load argon2's native module nor read the counters' secret; the CLI reads that secret only for
 * the commands that lift brute-force blocks.
 */
function refusal(what: string) {
  return async (): Promise<never> => {
    throw new Error(`${what}: give its composition root the real one`);
  };
}

export const noPasswordHashing: PasswordHasher = {
  hash: refusal('this function does not hash passwords'),
  verify: refusal('this function does not hash passwords'),
  needsRehash: () => {
    throw new Error('this function does not hash passwords: give its composition root the real one');
  },
  costClassOf: () => {
    throw new Error('this function does not hash passwords: give its composition root the real one');
  },
  get currentCostClass(): string {
    throw new Error('this function does not hash passwords: give its composition root the real one');
  },
  verifyDummy: refusal('this function does not hash passwords'),
};

const noAttempts: AttemptStore = {
  read: refusal('this function does not count login attempts'),
  charge: refusal('this function does not count login attempts'),
  withdraw: refusal('this function does not count login attempts'),
  refund: refusal('this function does not count login attempts'),
  reserveIpDay: refusal('this function does not count login attempts'),
  releaseIpDay: refusal('this function does not count login attempts'),
  resetUser: refusal('this function does not count login attempts'),
};

/**
 * No brute-force counters: a store that refuses every call, and an empty key that nothing can use,
 * since every use of the key (readLoginCounters, `users unblock`) goes on to the refusing store.
 */
export const noLoginCounters: Pick<Services, 'attempts' | 'counterHashKey'> = {
  attempts: noAttempts,
  counterHashKey: new Uint8Array(0),
};

/** Functions without the MFA key (endpoint-needs.ts `mfaKey`) never seal or open a TOTP secret. */
export const noSecretSealing: SecretSealer = {
  seal: refusal('this function does not seal MFA secrets'),
  open: refusal('this function does not open MFA secrets'),
};

/** Functions without `mail` (endpoint-needs.ts) never send one, nor load the SES client's config. */
export const noMail: Mailer = {
  send: refusal('this function does not send mail'),
};
