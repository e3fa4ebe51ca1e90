import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { defaults } from '../../config/defaults.ts';

/**
 * What a refresh token's value carries, so that a refresh reads its family and its user side by
 * side in one round, with no token record to look up first:
 *
 *   version (1 byte) · family secret (16) · fresh random bits (32) · family id (1-byte length + UTF-8)
 *   · the user's key, sealed: nonce (12) · AES-256-GCM ciphertext of (realm length (2) · realm ·
 *   username key) · tag (16)
 *
 * - The family secret is the same in every token of a family and only its SHA-256 is stored
 *   (`secret_hash`): it proves a token belongs to its family, so a rotated-out one presented again
 *   is told from a forgery (reuse detection, RFC 9700 §4.14.2) without a record per token, and the
 *   family id alone (it is in the logs) proves nothing.
 * - The 256 fresh random bits make each token unguessable (RFC 6749 §10.10); the family stores the
 *   SHA-256 of the current one's whole value, so the table holds no usable token.
 * - The user's key (realm and username key, often an email address) is sealed under a key derived
 *   from the server's secret, so the value shows no personal data to whoever sees it. It is only a
 *   hint that saves a round: it is checked against the family, and an endpoint without the secret
 *   reads the user after the family instead.
 */
const VERSION = 1;
const SECRET_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Far above any real token (a username key is at most a few hundred bytes): bounds the work on junk. */
const MAX_CHARS = 2048;

/** The tokens of the format before this one: 256 random bits, found through a token record. */
const LEGACY = /^[A-Za-z0-9_-]{43}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface UserKey {
  readonly realm: string;
  readonly username_key: string;
}

/** A presented value, read without any secret: what it names and what proves it. */
export type ParsedRefreshToken =
  | { readonly format: 'legacy' }
  | {
      readonly format: 'family';
      readonly familyId: string;
      readonly familySecret: Buffer;
      readonly sealedUser: Buffer;
    };

/** Only this hash of a value is stored: a copy of the table gives no usable token. */
export const hashRefreshToken = (value: string) =>
  createHash('sha256').update(value, 'utf8').digest('base64url');

export const newFamilySecret = () => randomBytes(SECRET_BYTES);

/** What the family stores of its secret. */
export const familySecretHash = (secret: Uint8Array) =>
  createHash('sha256').update(secret).digest('base64url');

/** Whether `secret` is the one whose hash the family holds (constant time: RFC 6749 §10.10's concern). */
export function provesFamily(secret: Uint8Array, secretHash: string | undefined): boolean {
  if (secretHash === undefined) return false;
  const stored = Buffer.from(secretHash, 'base64url');
  const presented = createHash('sha256').update(secret).digest();
  return stored.length === presented.length && timingSafeEqual(stored, presented);
}

const userKeys = new WeakMap<Uint8Array, Buffer>();

/** The key that seals user keys in token values, derived from the server's secret (RFC 5869). */
function userSealKey(serverSecret: Uint8Array): Buffer {
  let key = userKeys.get(serverSecret);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', serverSecret, '', 'passgate refresh token user key', 32));
    userKeys.set(serverSecret, key);
  }
  return key;
}

function sealUser(serverSecret: Uint8Array, user: UserKey): Buffer {
  const realm = Buffer.from(user.realm, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(realm.length);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', userSealKey(serverSecret), nonce);
  const sealed = Buffer.concat([
    cipher.update(Buffer.concat([length, realm, Buffer.from(user.username_key, 'utf8')])),
    cipher.final(),
  ]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]);
}

/** The user's key sealed in a token, or undefined when it does not open with this secret. */
export function openUserKey(serverSecret: Uint8Array, sealed: Buffer): UserKey | undefined {
  if (serverSecret.length === 0) return undefined;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      userSealKey(serverSecret),
      sealed.subarray(0, NONCE_BYTES),
    );
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
    const realmLength = plain.readUInt16BE(0);
    if (plain.length < 2 + realmLength) return undefined;
    return {
      realm: plain.subarray(2, 2 + realmLength).toString('utf8'),
      username_key: plain.subarray(2 + realmLength).toString('utf8'),
    };
  } catch {
    return undefined; // another server secret (rotated), or a forged value
  }
}

/** A new token value of a family. */
export function newRefreshTokenValue(
  serverSecret: Uint8Array,
  family: { readonly family_id: string; readonly secret: Uint8Array } & UserKey,
): string {
  const familyId = Buffer.from(family.family_id, 'utf8');
  return Buffer.concat([
    Buffer.from([VERSION]),
    family.secret,
    randomBytes(defaults.refreshTokenBytes),
    Buffer.from([familyId.length]),
    familyId,
    sealUser(serverSecret, family),
  ]).toString('base64url');
}

/** What a value names, or undefined when it is no refresh token of either format. */
export function parseRefreshToken(value: string): ParsedRefreshToken | undefined {
  if (LEGACY.test(value)) return { format: 'legacy' };
  if (value.length > MAX_CHARS || !BASE64URL.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  const idAt = 1 + SECRET_BYTES + defaults.refreshTokenBytes;
  if (bytes[0] !== VERSION || bytes.length <= idAt) return undefined;
  const idLength = bytes[idAt] as number;
  const sealedAt = idAt + 1 + idLength;
  if (idLength === 0 || bytes.length < sealedAt + NONCE_BYTES + 2 + TAG_BYTES) return undefined;
  // Only the canonical spelling counts: one token, one value, one hash.
  if (bytes.toString('base64url') !== value) return undefined;
  return {
    format: 'family',
    familySecret: bytes.subarray(1, 1 + SECRET_BYTES),
    familyId: bytes.subarray(idAt + 1, sealedAt).toString('utf8'),
    sealedUser: bytes.subarray(sealedAt),
  };
}
