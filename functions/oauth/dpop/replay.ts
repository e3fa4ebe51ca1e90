import { createHash } from 'node:crypto';
import type { DpopReplayStore } from '../ports.ts';
import type { VerifiedDpopProof } from './proof.ts';

/**
 * RFC 9449 §11.1: a proof is accepted once. `jti` is unique per key, so the entry is keyed by both
 * (one client cannot block another's `jti`), hashed to a fixed length. It is kept until the proof's
 * `iat` has left the accepted window, after which the proof is refused for its age anyway.
 */
export function claimProof(
  store: DpopReplayStore,
  proof: VerifiedDpopProof,
  now: number,
  maxAgeSeconds: number,
): Promise<boolean> {
  const proofKey = createHash('sha256').update(proof.jkt).update('\0').update(proof.jti).digest('base64url');
  return store.claim(proofKey, {
    now: Math.floor(now / 1000),
    expiresAt: Math.ceil(proof.iat + maxAgeSeconds) + 1,
  });
}
