import { OAuthError } from '../errors.ts';

/** RFC 9449 §5: one error code for every way a proof is wrong; the reason goes to the log only. */
export const invalidDpopProof = (detail: string) =>
  new OAuthError(400, 'invalid_dpop_proof', 'The DPoP proof is invalid.', detail);

/** RFC 9449 §8: the proof lacks the nonce the server requires; the header carries a fresh one. */
export const useDpopNonce = (nonce: string, detail: string) =>
  new OAuthError(400, 'use_dpop_nonce', 'Authorization server requires nonce in DPoP proof.', detail, {
    'DPoP-Nonce': nonce,
  });
