import type { Signer } from './ports.ts';

const encoder = new TextEncoder();

const base64url = (bytes: Uint8Array | string) =>
  Buffer.from(typeof bytes === 'string' ? encoder.encode(bytes) : bytes).toString('base64url');

/**
 * Signs a JWT in JWS compact serialisation (RFC 7515 §7.1). The signer only ever sees the signing
 * input, so the local key and KMS produce the same tokens.
 */
export async function signJwt(
  signer: Signer,
  typ: 'at+jwt' | 'JWT',
  claims: Readonly<Record<string, unknown>>,
): Promise<string> {
  const header = { alg: 'RS256', typ, kid: await signer.currentKeyId() };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = await signer.sign(encoder.encode(signingInput));
  return `${signingInput}.${base64url(signature)}`;
}
