/**
 * RFC 9449 §4.3 (5): the proof's `alg` must be asymmetric and one the server supports; these are
 * the JWS algorithms jose verifies with a public key, advertised in discovery as
 * `dpop_signing_alg_values_supported` (RFC 9449 §5.1). `none` and the HMAC family never are.
 */
export const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
  'Ed25519',
] as const;

export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

export const isDpopAlgorithm = (alg: unknown): alg is DpopAlgorithm =>
  typeof alg === 'string' && (DPOP_ALGORITHMS as readonly string[]).includes(alg);
