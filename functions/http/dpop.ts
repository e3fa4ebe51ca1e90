import type { APIGatewayProxyEvent } from 'aws-lambda';
import { useDpopNonce } from '../oauth/dpop/errors.ts';
import { currentDpopNonce, isFreshDpopNonce } from '../oauth/dpop/nonce.ts';
import { DpopProofError, type VerifiedDpopProof, verifyDpopProof } from '../oauth/dpop/proof.ts';
import { claimProof } from '../oauth/dpop/replay.ts';
import type { RequestInfo, Services } from '../oauth/services.ts';

/** Every `DPoP` header value: API Gateway keeps repeated headers in `multiValueHeaders`. */
function dpopHeaderValues(event: APIGatewayProxyEvent): string[] {
  const named = (record: Record<string, unknown> | null | undefined) =>
    Object.entries(record ?? {}).filter(([name, value]) => name.toLowerCase() === 'dpop' && value != null);
  const repeated = named(event.multiValueHeaders).flatMap(([, values]) => values as string[]);
  return repeated.length > 0 ? repeated : named(event.headers).map(([, value]) => value as string);
}

/** What the proof must match: the method, the endpoint (a path under the issuer), and at a resource the token. */
export interface ProofTarget {
  readonly htm: string;
  readonly path: string;
  readonly accessToken?: string;
  /** Only the token endpoint asks for nonces (RFC 9449 §8); a resource may, and userinfo does not. */
  readonly nonces: boolean;
}

/** A verified proof, and the recording of its `jti` (the replay check, a store write) in flight. */
export interface PresentedDpopProof {
  readonly proof: VerifiedDpopProof;
  /** Rejects with DpopProofError when the `jti` was used before with this key (RFC 9449 §11.1). */
  readonly claimed: Promise<void>;
}

/**
 * RFC 9449 §4.3 for one request, before any grant or resource runs: one `DPoP` header (1), the
 * proof itself (proof.ts), the nonce where the tenant requires one (10), then the `jti` recorded
 * so the proof cannot be replayed (12). The URL is the issuer's, which is the real scheme and host
 * (the stage URL on AWS) plus the endpoint's path. Undefined without a `DPoP` header.
 * Refusals throw DpopProofError, for the endpoint to answer in its own way.
 */
export async function checkDpopProof(
  event: APIGatewayProxyEvent,
  services: Services,
  info: RequestInfo,
  target: ProofTarget,
): Promise<VerifiedDpopProof | undefined> {
  const presented = await presentedDpopProof(event, services, info, target);
  await presented?.claimed;
  return presented?.proof;
}

/**
 * checkDpopProof, with the `jti`'s recording left in flight, for the token endpoint to run beside
 * the grant's first round (the grant awaits it before it writes or verifies anything, Grant).
 */
export async function presentedDpopProof(
  event: APIGatewayProxyEvent,
  services: Services,
  info: RequestInfo,
  target: ProofTarget,
): Promise<PresentedDpopProof | undefined> {
  const values = dpopHeaderValues(event);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new DpopProofError('more than one DPoP header');
  const now = services.clock.now();
  const { proofMaxAgeSeconds, requireNonce } = services.config.dpop;
  const proof = await verifyDpopProof(values[0] as string, {
    htm: target.htm,
    htu: `${info.issuer}${target.path}`,
    now,
    maxAgeSeconds: proofMaxAgeSeconds,
    accessToken: target.accessToken,
  });
  if (target.nonces && requireNonce) {
    const fresh = proof.nonce !== undefined && isFreshDpopNonce(services.counterHashKey, proof.nonce, now);
    if (!fresh) {
      throw useDpopNonce(
        currentDpopNonce(services.counterHashKey, now),
        proof.nonce === undefined ? 'no nonce' : 'stale or foreign nonce',
      );
    }
  }
  const claimed = claimProof(services.dpopProofs, proof, now, proofMaxAgeSeconds).then((fresh) => {
    if (!fresh) throw new DpopProofError('replayed: this jti was used before with this key');
  });
  claimed.catch(() => undefined); // awaited by the caller; never unhandled meanwhile
  return { proof, claimed };
}

/** RFC 9449 §8.2: with nonces on, every token response hands out the current one. */
export const dpopNonceHeaders = (services: Services): Record<string, string> =>
  services.config.dpop.requireNonce
    ? { 'DPoP-Nonce': currentDpopNonce(services.counterHashKey, services.clock.now()) }
    : {};
