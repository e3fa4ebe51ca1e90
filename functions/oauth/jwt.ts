import type { Signer } from './ports.ts';

const encoder = new TextEncoder();

const base64url = (bytes: Uint8Array | string) =>
  Buffer.from(typeof bytes === 'string' ? encoder.encode(bytes) : bytes).toString('base64url');

/** The encoded protected header per `typ` and key id: the same few strings for every token. */
const headers = new Map<string, string>();

function encodedHeader(typ: 'at+jwt' | 'JWT', kid: string): string {
  const key = `${typ} ${kid}`;
  let header = headers.get(key);
  if (header === undefined) {
    header = base64url(JSON.stringify({ alg: 'RS256', typ, kid }));
    headers.set(key, header);
  }
  return header;
}

/**
 * Signs a JWT in JWS compact serialisation (RFC 7515 §7.1). The signer only ever sees the signing
 * input, so the local key and KMS produce the same tokens.
 */
export async function signJwt(
  signer: Signer,
  typ: 'at+jwt' | 'JWT',
  claims: Readonly<Record<string, unknown>>,
): Promise<string> {
  const header = encodedHeader(typ, await signer.currentKeyId());
  const signingInput = `${header}.${base64url(JSON.stringify(claims))}`;
  const signature = await signer.sign(encoder.encode(signingInput));
  return `${signingInput}.${base64url(signature)}`;
}
