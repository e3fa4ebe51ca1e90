/**
 * For APIs that accept passgate's DPoP-bound access tokens: checks the token (RFC 9068), the DPoP
 * proof that comes with it (RFC 9449 §4.3, with `ath`) and that the proof's key is the one the
 * token is bound to (§7.1). Pure `jose` and node:crypto; imported as `passgate/dpop`.
 */
import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { defaults } from '../../config/defaults.ts';
import type { DpopReplayStore } from '../ports.ts';
import { DPOP_ALGORITHMS } from './algorithms.ts';
import { DpopProofError, verifyDpopProof } from './proof.ts';
import { claimProof } from './replay.ts';

export type { DpopReplayStore } from '../ports.ts';
export { DPOP_ALGORITHMS } from './algorithms.ts';

/** The parts of an HTTP request the check reads. */
export interface DpopRequest {
  readonly method: string;
  /** The URL the client called, as it called it (scheme, host, path; the query is ignored). */
  readonly url: string;
  /** The `Authorization` header: `DPoP <access token>`. */
  readonly authorization: string | undefined;
  /** Every `DPoP` header the request carries (exactly one is accepted). */
  readonly dpop: string | readonly string[] | undefined;
}

export interface DpopVerifyOptions {
  /** passgate's JWKS: `createRemoteJWKSet(new URL('.well-known/jwks.json', issuer))`. */
  readonly jwks: JWTVerifyGetKey;
  readonly issuer: string;
  /** The API's identifier, as configured in passgate's `apis`. */
  readonly audience: string;
  /**
   * Where used proofs are remembered, so a proof is accepted once (RFC 9449 §11.1). One instance:
   * `memoryReplayStore()`; several: a shared store (a DynamoDB table with TTL, Redis).
   */
  readonly replay: DpopReplayStore;
  /** How far a proof's `iat` may be from now, either way. Default 60 s, as passgate's token endpoint. */
  readonly maxAgeSeconds?: number;
  /** Epoch milliseconds; tests fix it. */
  readonly now?: number;
}

/** A refusal, ready to send: status 401 and the `WWW-Authenticate` challenge of RFC 9449 §7.1. */
export class DpopRequestError extends Error {
  readonly status = 401;
  readonly wwwAuthenticate: string;
  constructor(
    readonly error: 'invalid_token' | 'invalid_dpop_proof',
    readonly reason: string,
  ) {
    super(`${error}: ${reason}`);
    this.name = 'DpopRequestError';
    this.wwwAuthenticate = `DPoP algs="${DPOP_ALGORITHMS.join(' ')}", error="${error}"`;
  }
}

const DPOP_AUTHORIZATION = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Verifies a request made with a DPoP-bound access token. Resolves to the token's claims and the
 * key's thumbprint; rejects with DpopRequestError (send its status and `wwwAuthenticate`). A
 * bound token sent as `Bearer` never reaches here: refuse it as `invalid_token` (RFC 9449 §7.1).
 */
export async function verifyDpopRequest(
  request: DpopRequest,
  options: DpopVerifyOptions,
): Promise<{ payload: JWTPayload; jkt: string }> {
  const token =
    request.authorization === undefined ? undefined : DPOP_AUTHORIZATION.exec(request.authorization)?.[1];
  if (token === undefined) throw new DpopRequestError('invalid_token', 'no DPoP access token');
  const proofs = typeof request.dpop === 'string' ? [request.dpop] : [...(request.dpop ?? [])];
  if (proofs.length !== 1) throw new DpopRequestError('invalid_dpop_proof', 'not exactly one DPoP header');
  const now = options.now ?? Date.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, options.jwks, {
      algorithms: ['RS256'],
      typ: 'at+jwt',
      issuer: options.issuer,
      audience: options.audience,
      currentDate: new Date(now),
    }));
  } catch {
    throw new DpopRequestError('invalid_token', 'access token failed verification');
  }
  const boundTo = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
  if (typeof boundTo !== 'string') throw new DpopRequestError('invalid_token', 'the token is not DPoP-bound');
  const maxAgeSeconds = options.maxAgeSeconds ?? defaults.dpop.proofMaxAgeSeconds;
  let proof: Awaited<ReturnType<typeof verifyDpopProof>>;
  try {
    proof = await verifyDpopProof(proofs[0] as string, {
      htm: request.method.toUpperCase(),
      htu: request.url,
      now,
      maxAgeSeconds,
      accessToken: token,
    });
  } catch (error) {
    if (error instanceof DpopProofError) throw new DpopRequestError('invalid_dpop_proof', error.reason);
    throw error;
  }
  if (proof.jkt !== boundTo)
    throw new DpopRequestError('invalid_token', 'proof by another key than the token is bound to');
  if (!(await claimProof(options.replay, proof, now, maxAgeSeconds))) {
    throw new DpopRequestError('invalid_dpop_proof', 'replayed proof');
  }
  return { payload, jkt: proof.jkt };
}

/** Used proofs in this process's memory: enough for one instance; expired entries are swept as it goes. */
export function memoryReplayStore(): DpopReplayStore {
  const claims = new Map<string, number>();
  let sweptAt = 0;
  return {
    async claim(proofKey, { now, expiresAt }) {
      if (now !== sweptAt) {
        sweptAt = now; // at most once a second: `now` is in seconds
        for (const [key, expiry] of claims) if (expiry < now) claims.delete(key);
      }
      const expiry = claims.get(proofKey);
      if (expiry !== undefined && expiry >= now) return false;
      claims.set(proofKey, expiresAt);
      return true;
    },
  };
}
