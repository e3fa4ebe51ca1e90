import { exportJWK, generateKeyPair, generateSecret, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { DPOP_ALGORITHMS } from '../../functions/oauth/dpop/algorithms.ts';
import {
  DpopProofError,
  MAX_PROOF_CHARS,
  normalizedHtu,
  verifyDpopProof,
} from '../../functions/oauth/dpop/proof.ts';
import { type DpopKey, dpopKey, dpopProof } from '../helpers/dpop.ts';

const HTU = 'https://auth.example.com/prod/oauth/token';
const NOW = Date.parse('2026-12-06T12:00:00Z');
const IAT = NOW / 1000;
const expected = { htm: 'POST', htu: HTU, now: NOW, maxAgeSeconds: 60 };
let key: DpopKey;

beforeAll(async () => {
  key = await dpopKey('ES256');
});

const proof = (
  overrides: Parameters<typeof dpopProof>[2] = {},
  target: Partial<Parameters<typeof dpopProof>[1]> = {},
) => dpopProof(key, { htm: 'POST', htu: HTU, iat: IAT, ...target }, overrides);

async function refusal(jwt: string, expectations = expected): Promise<string> {
  const error = await verifyDpopProof(jwt, expectations).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DpopProofError);
  return (error as DpopProofError).reason;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('a DPoP proof (RFC 9449 §4.3)', () => {
  it('is accepted when every rule holds, and names the key by its RFC 7638 thumbprint', async () => {
    const verified = await verifyDpopProof(await proof({ claims: { jti: 'j-1' } }), expected);
    expect(verified).toEqual({ jkt: key.jkt, jti: 'j-1', iat: IAT });
  });

  it.each(DPOP_ALGORITHMS)('is accepted signed with %s', async (alg) => {
    const other = await dpopKey(alg);
    const verified = await verifyDpopProof(
      await dpopProof(other, { htm: 'POST', htu: HTU, iat: IAT }),
      expected,
    );
    expect(verified.jkt).toBe(other.jkt);
  });

  it('(2) is a JWS in compact serialisation', async () => {
    expect(await refusal('not-a-jwt')).toBe('not a JWS in compact serialisation');
    expect(await refusal(`${b64({ alg: 'none', typ: 'dpop+jwt' })}.${b64({})}.`)).toBe(
      'not a JWS in compact serialisation',
    );
    expect(await refusal(`${await proof()}, ${await proof()}`)).toBe('not a JWS in compact serialisation');
    expect(await refusal(`${Buffer.from('[').toString('base64url')}.e30.c2ln`)).toBe(
      'protected header is not a JSON object',
    );
  });

  it('is refused when huge, before any parsing', async () => {
    expect(await refusal('a'.repeat(MAX_PROOF_CHARS + 1))).toMatch(/^longer than/);
  });

  it('(4) has typ dpop+jwt', async () => {
    expect(await refusal(await proof({ header: { typ: 'JWT' } }))).toBe('typ is not dpop+jwt');
    expect(await refusal(await proof({ header: { typ: undefined } }))).toBe('typ is not dpop+jwt');
  });

  it('(5) uses an asymmetric algorithm the server supports: never none or HMAC', async () => {
    const secret = await generateSecret('HS256');
    const hmac = await new SignJWT({ jti: 'x', htm: 'POST', htu: HTU, iat: IAT })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt' })
      .sign(secret);
    expect(await refusal(hmac)).toBe('alg is not a supported asymmetric algorithm');
    const none = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${b64({ jti: 'x' })}.AA`;
    expect(await refusal(none)).toBe('alg is not a supported asymmetric algorithm');
  });

  it('(7) carries a public jwk only: private members and symmetric keys are refused', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    expect(await refusal(await proof({ header: { jwk: privateJwk } }))).toBe(
      'jwk carries the private member "d"',
    );
    expect(await refusal(await proof({ header: { jwk: { kty: 'oct', k: 'AAAA' } } }))).toBe(
      'jwk is a symmetric key',
    );
    expect(await refusal(await proof({ header: { jwk: undefined } }))).toBe(
      'jwk header is not a JSON object',
    );
    expect(
      await refusal(await proof({ header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } } })),
    ).toBe('jwk is not a usable ES256 public key');
  });

  it('refuses RSA keys that would make verifying costly: over 4096 bits, or a large exponent', async () => {
    const rsa = await dpopKey('RS256');
    const n = rsa.publicJwk.n as string;
    const big = await dpopProof(
      rsa,
      { htm: 'POST', htu: HTU, iat: IAT },
      {
        header: { jwk: { ...rsa.publicJwk, n: n.repeat(3) } },
      },
    );
    const exponent = await dpopProof(
      rsa,
      { htm: 'POST', htu: HTU, iat: IAT },
      {
        header: { jwk: { ...rsa.publicJwk, e: n } },
      },
    );
    for (const jwt of [big, exponent]) {
      expect(await refusal(jwt)).toBe('jwk is an RSA key over 4096 bits or with a large exponent');
    }
  });

  it('(6) is signed by the key in its jwk', async () => {
    const other = await dpopKey('ES256');
    expect(await refusal(await proof({ header: { jwk: other.publicJwk } }))).toBe(
      'signature does not verify with the jwk',
    );
    const [header, payload] = (await proof()).split('.');
    expect(await refusal(`${header}.${payload}.${'A'.repeat(86)}`)).toBe(
      'signature does not verify with the jwk',
    );
  });

  it('(3) has a jti: present, a string, short', async () => {
    expect(await refusal(await proof({ claims: { jti: undefined } }))).toBe(
      'jti is missing or not a short string',
    );
    expect(await refusal(await proof({ claims: { jti: 7 } }))).toBe('jti is missing or not a short string');
    expect(await refusal(await proof({ claims: { jti: 'j'.repeat(257) } }))).toBe(
      'jti is missing or not a short string',
    );
  });

  it('(8) names the request method in htm', async () => {
    expect(await refusal(await proof({}, { htm: 'GET' }))).toBe('htm does not match the request method');
    expect(await refusal(await proof({ claims: { htm: undefined } }))).toBe(
      'htm does not match the request method',
    );
  });

  it('(9) names the request URL in htu, ignoring query and fragment, after normalisation', async () => {
    const accepted = ['HTTPS://Auth.Example.COM:443/prod/oauth/token', `${HTU}?x=1`, `${HTU}#frag`];
    for (const htu of accepted) {
      await expect(verifyDpopProof(await proof({}, { htu }), expected)).resolves.toMatchObject({
        jkt: key.jkt,
      });
    }
    for (const htu of [
      'https://auth.example.com/prod/userinfo',
      'http://auth.example.com/prod/oauth/token',
      'https://evil.example/prod/oauth/token',
      'https://auth.example.com/oauth/token',
      '/prod/oauth/token',
    ]) {
      expect(await refusal(await proof({}, { htu })), htu).toBe('htu does not match the request URL');
    }
    expect(normalizedHtu('not a url')).toBeUndefined();
  });

  it('(11) was made within proofMaxAgeSeconds of now, either way', async () => {
    for (const iat of [IAT - 60, IAT + 60]) {
      await expect(verifyDpopProof(await proof({}, { iat }), expected)).resolves.toBeDefined();
    }
    for (const iat of [IAT - 61, IAT + 61]) {
      expect(await refusal(await proof({}, { iat }))).toBe('iat is outside the accepted window');
    }
    expect(await refusal(await proof({ claims: { iat: '1' } }))).toBe('iat is missing');
  });

  it('(12) at a resource, carries ath: the hash of the access token it comes with', async () => {
    const atResource = { ...expected, accessToken: 'the.access.token' };
    await expect(
      verifyDpopProof(await proof({}, { accessToken: 'the.access.token' }), atResource),
    ).resolves.toBeDefined();
    expect(await refusal(await proof(), atResource)).toBe('ath does not match the access token');
    expect(await refusal(await proof({}, { accessToken: 'another.token' }), atResource)).toBe(
      'ath does not match the access token',
    );
  });

  it('(10) hands a nonce to the caller, which must be a string', async () => {
    await expect(verifyDpopProof(await proof({}, { nonce: 'n-1' }), expected)).resolves.toMatchObject({
      nonce: 'n-1',
    });
    expect(await refusal(await proof({ claims: { nonce: 1 } }))).toBe('nonce is not a string');
  });
});
