import { randomUUID } from 'node:crypto';
import { defaults } from '../../config/defaults.ts';
import { DependencyUnavailableError } from '../errors.ts';
import type { MfaGuesses, UserRecord } from '../ports.ts';
import type { Services } from '../services.ts';

const { capacity, refillSeconds } = defaults.mfa.guesses;
const REFILL_MS = refillSeconds * 1000;

/** The bucket as it stands at `now`: refilled by one per period since `at`, never past capacity. */
export function guessesAt(observed: MfaGuesses | undefined, now: number): MfaGuesses {
  if (observed === undefined) return { left: capacity, at: now };
  const refills = Math.max(0, Math.floor((now - observed.at) / REFILL_MS));
  const left = Math.min(capacity, observed.left + refills);
  // A full bucket starts its next period when it is next drawn from.
  return { left, at: left >= capacity ? now : observed.at + refills * REFILL_MS };
}

/**
 * Guesses of one user at the same moment contend for one item, and each round one of them wins:
 * a full bucket's worth of parallel guesses all land within this many rounds.
 */
const ROUNDS = capacity + 2;

/**
 * Takes one guess from the user's bucket before the code is checked (fail closed): a right code
 * gives it back in the write that accepts it (MfaStore.acceptCode). The check and the take are one
 * conditional write, so parallel guesses cannot all pass one read. Returns the seconds until the
 * next guess when the bucket is empty. A right password refills nothing.
 */
export async function takeGuess(
  services: Pick<Services, 'mfa' | 'clock'>,
  user: UserRecord,
  observed: MfaGuesses | undefined,
): Promise<{ readonly taken: true } | { readonly taken: false; readonly retryAfterSeconds: number }> {
  let seen = observed;
  const writer = randomUUID();
  for (let round = 0; round < ROUNDS; round += 1) {
    const now = services.clock.now();
    const current = guessesAt(seen, now);
    if (current.left <= 0) {
      return { taken: false, retryAfterSeconds: Math.ceil((current.at + REFILL_MS - now) / 1000) };
    }
    if (await services.mfa.updateGuesses(user, seen, { left: current.left - 1, at: current.at }, writer)) {
      return { taken: true };
    }
    seen = (await services.mfa.find(user.realm, user.username_key))?.guesses;
  }
  // Lost races past a few rounds: contention, reported as the throttling it is (503), so the client retries.
  throw new DependencyUnavailableError('dynamodb', 'UpdateItem', new Error('MFA guesses contention'));
}
