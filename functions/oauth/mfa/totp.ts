import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { defaults } from '../../config/defaults.ts';

/** RFC 6238 §4 / §5.2: the parameters every authenticator app supports (Google Authenticator's only ones). */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** RFC 6238 §5.2: one step either side absorbs clock drift and typing time. */
const WINDOW = 1;

const totp = (secret: Uint8Array, issuer = '', label = '') =>
  new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: new Secret({ buffer: Uint8Array.from(secret).buffer }),
  });

/** A new shared secret: 160 random bits (RFC 4226 §4 R6). */
export const newTotpSecret = () => new Uint8Array(randomBytes(defaults.mfa.secretBytes));

/** The secret as authenticator apps take it when typed in: RFC 4648 base32, no padding. */
export const base32Secret = (secret: Uint8Array) => totp(secret).secret.base32;

/**
 * The Key URI Format that authenticator apps read from a QR code:
 * `otpauth://totp/<issuer>:<username>?secret=…&issuer=…`.
 */
export const barcodeUri = (secret: Uint8Array, issuer: string, username: string) =>
  totp(secret, issuer, username).toString();

/**
 * The RFC 6238 time step of `code` if it is right now (±1 step), else undefined. The comparison
 * is otpauth's constant-time one; that the step is new is the store's business (acceptCode).
 */
export function matchingStep(secret: Uint8Array, code: string, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp(secret).validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}
