import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Stateless DPoP nonces (RFC 9449 §8): the HMAC of a time window under a key only the server
 * holds, so every Lambda instance issues and accepts the same nonces without sharing state. A
 * nonce is accepted in its own window and the next, so it lives between one and two windows.
 */
export const NONCE_WINDOW_SECONDS = 300;

const keys = new WeakMap<Uint8Array, Buffer>();

/**
 * The nonce key, derived with HKDF (RFC 5869) from the server's secret (the brute-force counters'
 * key) under its own label: the secret itself is never used raw for a second purpose.
 */
function nonceKey(serverSecret: Uint8Array): Buffer {
  let key = keys.get(serverSecret);
  if (key === undefined) {
    if (serverSecret.length === 0) throw new Error('DPoP nonces need the server secret');
    key = Buffer.from(hkdfSync('sha256', serverSecret, 'passgate', 'passgate dpop nonce v1', 32));
    keys.set(serverSecret, key);
  }
  return key;
}

const windowOf = (now: number) => Math.floor(now / 1000 / NONCE_WINDOW_SECONDS);

const nonceOfWindow = (key: Buffer, window: number) =>
  createHmac('sha256', key).update(`dpop-nonce:${window}`).digest().subarray(0, 16);

/** The nonce to hand out now (`DPoP-Nonce`): 22 base64url characters. */
export const currentDpopNonce = (serverSecret: Uint8Array, now: number) =>
  nonceOfWindow(nonceKey(serverSecret), windowOf(now)).toString('base64url');

/** True for a nonce of the current or the previous window; compared in constant time. */
export function isFreshDpopNonce(serverSecret: Uint8Array, nonce: string, now: number): boolean {
  const presented = Buffer.from(nonce, 'base64url');
  if (presented.length !== 16 || presented.toString('base64url') !== nonce) return false;
  const key = nonceKey(serverSecret);
  const window = windowOf(now);
  // Both compared, whichever matches, so the time does not tell the nonce's age.
  const current = timingSafeEqual(presented, nonceOfWindow(key, window));
  const previous = timingSafeEqual(presented, nonceOfWindow(key, window - 1));
  return current || previous;
}
