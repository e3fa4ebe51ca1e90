import { describe, expect, it } from 'vitest';
import {
  currentDpopNonce,
  isFreshDpopNonce,
  NONCE_WINDOW_SECONDS,
} from '../../functions/oauth/dpop/nonce.ts';

const SECRET = Buffer.alloc(32, 3);
const NOW = Date.parse('2026-12-06T12:00:00Z');
const WINDOW_MS = NONCE_WINDOW_SECONDS * 1000;

describe('stateless DPoP nonces (RFC 9449 §8)', () => {
  it('are the same on every instance that holds the secret, and accepted there', () => {
    const nonce = currentDpopNonce(Buffer.from(SECRET), NOW);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(currentDpopNonce(SECRET, NOW)).toBe(nonce);
    expect(isFreshDpopNonce(Buffer.from(SECRET), nonce, NOW)).toBe(true);
  });

  it('stay good for the next window, and no longer', () => {
    const nonce = currentDpopNonce(SECRET, NOW);
    expect(isFreshDpopNonce(SECRET, nonce, NOW + WINDOW_MS)).toBe(true);
    expect(isFreshDpopNonce(SECRET, nonce, NOW + 2 * WINDOW_MS)).toBe(false);
    expect(currentDpopNonce(SECRET, NOW + 2 * WINDOW_MS)).not.toBe(nonce);
  });

  it('of another server secret, or made up, are refused', () => {
    expect(isFreshDpopNonce(SECRET, currentDpopNonce(Buffer.alloc(32, 4), NOW), NOW)).toBe(false);
    for (const forged of ['', 'abc', 'A'.repeat(22), `${currentDpopNonce(SECRET, NOW)}=`, '\ud800']) {
      expect(isFreshDpopNonce(SECRET, forged, NOW), forged).toBe(false);
    }
  });

  it('are not the secret nor its raw HMAC: the key is derived (HKDF) for this use only', async () => {
    const { createHmac } = await import('node:crypto');
    const window = Math.floor(NOW / 1000 / NONCE_WINDOW_SECONDS);
    const raw = createHmac('sha256', SECRET).update(`dpop-nonce:${window}`).digest().subarray(0, 16);
    expect(currentDpopNonce(SECRET, NOW)).not.toBe(raw.toString('base64url'));
  });
});
