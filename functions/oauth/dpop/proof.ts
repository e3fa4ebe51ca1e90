import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { isDpopAlgorithm } from './algorithms.ts';

/** Why a proof was refused; the callers turn it into their own error (400 at the token endpoint, 401 at a resource). */
export class DpopProofError extends Error {
  constructor(readonly reason: string) {
    super(`invalid DPoP proof: ${reason}`);
    this.name = 'DpopProofError';
  }
}

/** What the request the proof came with must match. */
export interface DpopProofExpectations {
  /** The request's method (RFC 9449 §4.3 (8)). */
  readonly htm: string;
  /** The request's URL: the issuer's real scheme and host plus the endpoint's path (§4.3 (9)). */
  readonly htu: string;
  /** Epoch milliseconds. */
  readonly now: number;
  /** How far `iat` may be from `now`, either way (§4.3 (11)). */
  readonly maxAgeSeconds: number;
  /** At a protected resource: the access token, whose hash `ath` must be (§4.3 (12)). */
  readonly accessToken?: string;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what tokens are bound to (`cnf.jkt`). */
  readonly jkt: string;
  readonly jti: string;
  /** Epoch seconds. */
  readonly iat: number;
  readonly nonce?: string;
}

/**
 * Bounds the work a proof can cost before its signature is checked. An RSA-8192 proof is about
 * 3 KiB; API Gateway refuses headers past 10 KiB anyway.
 */
export const MAX_PROOF_CHARS = 8192;
/** `jti` is an identifier (RFC 9449 §4.2: 96 random bits suffice); past this it is not one. */
export const MAX_JTI_CHARS = 256;

/** RFC 9449 §4.3 (7): a proof's `jwk` must not carry private members (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'priv'];

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** RFC 9449 §4.2: `ath` is the base64url SHA-256 of the ASCII access token. */
export const accessTokenHash = (accessToken: string) =>
  createHash('sha256').update(accessToken, 'ascii').digest('base64url');

/**
 * The URL without query and fragment, normalised as RFC 3986 §6.2.2-6.2.3 (case of scheme and
 * host, default port): RFC 9449 §4.3 (9). Undefined for something that is not an absolute URL.
 */
export function normalizedHtu(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  url.search = '';
  url.hash = '';
  return url.href;
}

async function publicKeyOf(jwk: unknown, alg: string) {
  if (!isObject(jwk)) throw new DpopProofError('jwk header is not a JSON object');
  if (jwk.kty === 'oct') throw new DpopProofError('jwk is a symmetric key');
  const privateMember = PRIVATE_MEMBERS.find((member) => member in jwk);
  if (privateMember !== undefined)
    throw new DpopProofError(`jwk carries the private member "${privateMember}"`);
  // A verify costs what the public exponent and modulus make it cost: device keys are at most
  // RSA-4096 with a small exponent (65537), so a proof cannot be made to cost a private-key operation.
  if (
    jwk.kty === 'RSA' &&
    !(typeof jwk.n === 'string' && jwk.n.length <= 683 && typeof jwk.e === 'string' && jwk.e.length <= 4)
  ) {
    throw new DpopProofError('jwk is an RSA key over 4096 bits or with a large exponent');
  }
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk as JWK, alg);
  } catch {
    throw new DpopProofError(`jwk is not a usable ${alg} public key`);
  }
  if (key instanceof Uint8Array || key.type !== 'public') throw new DpopProofError('jwk is not a public key');
  return { key, jwk: jwk as JWK };
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3) one rule at a time: a compact JWS (2) with `typ` dpop+jwt
 * (4), an asymmetric supported `alg` (5), a public `jwk` (7) whose signature verifies (6), and the
 * claims `jti`, `htm`, `htu`, `iat` (3, 8, 9, 11) plus `ath` at a resource (12). The checks that
 * need state (single header, nonce, `jti` replay) are the caller's. Pure: no store, no clock.
 */
export async function verifyDpopProof(
  proof: string,
  expected: DpopProofExpectations,
): Promise<VerifiedDpopProof> {
  if (proof.length > MAX_PROOF_CHARS) throw new DpopProofError(`longer than ${MAX_PROOF_CHARS} characters`);
  if (!COMPACT_JWS.test(proof)) throw new DpopProofError('not a JWS in compact serialisation');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopProofError('protected header is not a JSON object');
  }
  if (header.typ !== 'dpop+jwt') throw new DpopProofError('typ is not dpop+jwt');
  if (!isDpopAlgorithm(header.alg)) throw new DpopProofError('alg is not a supported asymmetric algorithm');
  const { key, jwk } = await publicKeyOf(header.jwk, header.alg);
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(proof, key, { algorithms: [header.alg] }));
  } catch {
    throw new DpopProofError('signature does not verify with the jwk');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    throw new DpopProofError('payload is not JSON');
  }
  if (!isObject(payload)) throw new DpopProofError('payload is not a JSON object');
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_CHARS) {
    throw new DpopProofError('jti is missing or not a short string');
  }
  if (htm !== expected.htm) throw new DpopProofError('htm does not match the request method');
  if (typeof htu !== 'string' || normalizedHtu(htu) !== normalizedHtu(expected.htu)) {
    throw new DpopProofError('htu does not match the request URL');
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new DpopProofError('iat is missing');
  if (Math.abs(expected.now / 1000 - iat) > expected.maxAgeSeconds) {
    throw new DpopProofError('iat is outside the accepted window');
  }
  if (expected.accessToken !== undefined && ath !== accessTokenHash(expected.accessToken)) {
    throw new DpopProofError('ath does not match the access token');
  }
  if (nonce !== undefined && typeof nonce !== 'string') throw new DpopProofError('nonce is not a string');
  return {
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    jti,
    iat,
    ...(nonce === undefined ? {} : { nonce }),
  };
}
