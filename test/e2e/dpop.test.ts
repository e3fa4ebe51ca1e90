import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRANT_PASSWORD,
  GRANT_PASSWORD_REALM,
  GRANT_REFRESH_TOKEN,
} from '../../functions/config/grant-types.ts';
import { API, BACKOFFICE_SECRET, testConfig } from '../helpers/config.ts';
import { dpopKey, dpopProof } from '../helpers/dpop.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';
// The local server speaks plain HTTP on loopback; the library demands HTTPS unless told otherwise.
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const mobile: oauth.Client = { client_id: 'mobile-app' };
const backoffice: oauth.Client = { client_id: 'backoffice' };

const config = () => {
  const base = testConfig();
  return testConfig({
    clients: [
      // The back office introspects the mobile app's tokens, as a gateway does.
      ...base.clients.map((client) =>
        client.clientId === 'backoffice' ? { ...client, introspection: 'all' as const } : client,
      ),
      {
        clientId: 'dpop-only',
        name: 'DPoP only',
        grantTypes: [GRANT_PASSWORD, GRANT_REFRESH_TOKEN],
        realms: ['customers'],
        requireDpop: true,
      },
    ],
  });
};

let server: TestServer;
let nonceServer: TestServer;

beforeAll(async () => {
  [server, nonceServer] = await Promise.all([
    startTestServer({ config: config() }),
    startTestServer({ config: { ...config(), dpop: { requireNonce: true } } }),
  ]);
  for (const each of [server, nonceServer]) {
    await addUser(each, { username: 'alice', password: PASSWORD, email: 'alice@example.com' });
    await addUser(each, { realm: 'employees', username: 'erin', password: PASSWORD });
  }
});
afterAll(async () => {
  await Promise.all([server?.stop(), nonceServer?.stop()]);
});

async function discover(target: TestServer) {
  const issuer = new URL(target.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

/** A device key as an app makes it: the private half non-extractable, as in a keystore. */
async function deviceKey() {
  const keyPair = await generateKeyPair('ES256');
  return { keyPair, jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256') };
}

/** oauth4webapi's password grant with a DPoP handle, retrying once on `use_dpop_nonce` as its docs say. */
async function login(
  as: oauth.AuthorizationServer,
  dpop: oauth.DPoPHandle | undefined,
  client: oauth.Client = mobile,
  extra: Record<string, string> = {},
) {
  const auth = client === backoffice ? oauth.ClientSecretBasic(BACKOFFICE_SECRET) : oauth.None();
  const grantType = client === backoffice ? GRANT_PASSWORD_REALM : 'password';
  const parameters = {
    username: client === backoffice ? 'erin' : 'alice',
    password: PASSWORD,
    scope: 'openid profile offline_access read:orders',
    ...(client === backoffice ? { realm: 'employees' } : {}),
    ...extra,
  };
  const attempt = async () =>
    oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await oauth.genericTokenEndpointRequest(as, client, auth, grantType, parameters, {
        ...insecure,
        DPoP: dpop,
      }),
    );
  try {
    return await attempt();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return attempt();
    throw error;
  }
}

async function refresh(
  as: oauth.AuthorizationServer,
  refreshToken: string,
  dpop: oauth.DPoPHandle | undefined,
  client: oauth.Client = mobile,
) {
  const auth = client === backoffice ? oauth.ClientSecretBasic(BACKOFFICE_SECRET) : oauth.None();
  return oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { ...insecure, DPoP: dpop }),
  );
}

const refusalOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(oauth.ResponseBodyError);
  return error as oauth.ResponseBodyError;
};

/** A raw token request with a DPoP header, for proofs no honest library would send. */
const postToken = (target: TestServer, proof: string, params: Record<string, string> = {}) =>
  target.token(
    { grant_type: 'password', client_id: 'mobile-app', username: 'alice', password: PASSWORD, ...params },
    { DPoP: proof },
  );

describe('DPoP with a third-party client (oauth4webapi)', () => {
  it('discovery lists the proof algorithms, ES256, RS256 and EdDSA among them', async () => {
    const as = await discover(server);
    expect(as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256', 'EdDSA']));
    expect(as.dpop_signing_alg_values_supported).not.toContain('HS256');
  });

  it('gets a DPoP-bound token, refreshes it, and calls userinfo with a proof', async () => {
    const as = await discover(server);
    const { keyPair, jkt } = await deviceKey();
    const dpop = oauth.DPoP(mobile, keyPair);
    const tokens = await login(as, dpop);
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    const refreshed = await refresh(as, tokens.refresh_token as string, dpop);
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const sub = decodeJwt(refreshed.access_token).sub as string;
    const userinfo = await oauth.processUserInfoResponse(
      as,
      mobile,
      sub,
      await oauth.userInfoRequest(as, mobile, refreshed.access_token, { ...insecure, DPoP: dpop }),
    );
    expect(userinfo).toMatchObject({ sub, preferred_username: 'alice' });
  });

  it('refuses a DPoP-bound access token presented as a bearer token (RFC 9449 §7.1)', async () => {
    const as = await discover(server);
    const tokens = await login(as, oauth.DPoP(mobile, (await deviceKey()).keyPair));
    const response = await fetch(`${server.issuer}userinfo`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^DPoP algs="[^"]*ES256[^"]*", error="invalid_token"/,
    );
    expect((await json(response)).error).toBe('invalid_token');
  });

  it('a copied refresh token fails without the key, and the holder keeps the session', async () => {
    const as = await discover(server);
    const dpop = oauth.DPoP(mobile, (await deviceKey()).keyPair);
    const tokens = await login(as, dpop);
    const stolen = tokens.refresh_token as string;
    const withoutKey = await refusalOf(refresh(as, stolen, undefined));
    expect(withoutKey.error).toBe('invalid_grant');
    const otherKey = await refusalOf(refresh(as, stolen, oauth.DPoP(mobile, (await deviceKey()).keyPair)));
    expect(otherKey.error).toBe('invalid_grant');
    // Not counted as reuse: the rightful device refreshes, and its successor works too.
    const next = await refresh(as, stolen, dpop);
    expect((await refresh(as, next.refresh_token as string, dpop)).token_type).toBe('dpop');
  });

  it("a confidential client's refresh token is bound to its authentication, not the key (RFC 9449 §5)", async () => {
    const as = await discover(server);
    const tokens = await login(as, oauth.DPoP(backoffice, (await deviceKey()).keyPair), backoffice);
    expect(tokens.token_type).toBe('dpop');
    const refreshed = await refresh(as, tokens.refresh_token as string, undefined, backoffice);
    expect(refreshed.token_type).toBe('bearer');
  });

  it('introspection tells a resource server the token type and its key (cnf)', async () => {
    const as = await discover(server);
    const { keyPair, jkt } = await deviceKey();
    const tokens = await login(as, oauth.DPoP(mobile, keyPair));
    const access = await oauth.processIntrospectionResponse(
      as,
      backoffice,
      await oauth.introspectionRequest(
        as,
        backoffice,
        oauth.ClientSecretBasic(BACKOFFICE_SECRET),
        tokens.access_token,
        insecure,
      ),
    );
    expect(access).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });
  });

  it('refuses a replayed proof', async () => {
    const key = await dpopKey();
    const proof = await dpopProof(key, { htm: 'POST', htu: `${server.issuer}oauth/token` });
    expect((await postToken(server, proof)).status).toBe(200);
    const replay = await postToken(server, proof);
    expect(replay.status).toBe(400);
    expect(await json(replay)).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'The DPoP proof is invalid.',
    });
  });

  it('refuses a proof made for another URL or another method', async () => {
    const key = await dpopKey();
    for (const target of [
      { htm: 'POST', htu: `${server.issuer}oauth/revoke` },
      { htm: 'POST', htu: `http://127.0.0.2:${new URL(server.issuer).port}/oauth/token` },
      { htm: 'GET', htu: `${server.issuer}oauth/token` },
    ]) {
      const response = await postToken(server, await dpopProof(key, target));
      expect(response.status, JSON.stringify(target)).toBe(400);
      expect((await json(response)).error).toBe('invalid_dpop_proof');
    }
  });

  it('refuses two DPoP headers, and a client that requires DPoP refuses a request without one', async () => {
    const key = await dpopKey();
    const proofs = await Promise.all(
      [1, 2].map(() => dpopProof(key, { htm: 'POST', htu: `${server.issuer}oauth/token` })),
    );
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
    for (const proof of proofs) headers.append('DPoP', proof);
    const twice = await fetch(`${server.issuer}oauth/token`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'alice',
        password: PASSWORD,
      }),
    });
    expect(twice.status).toBe(400);
    expect((await json(twice)).error).toBe('invalid_dpop_proof');

    const as = await discover(server);
    const client: oauth.Client = { client_id: 'dpop-only' };
    const unbound = await refusalOf(login(as, undefined, client));
    expect(unbound.error).toBe('invalid_request');
    expect((await login(as, oauth.DPoP(client, (await deviceKey()).keyPair), client)).token_type).toBe(
      'dpop',
    );
  });

  it('with requireNonce, asks for a nonce, accepts it on the retry, and hands out the next one', async () => {
    const as = await discover(nonceServer);
    const key = await dpopKey();
    const first = await postToken(
      nonceServer,
      await dpopProof(key, { htm: 'POST', htu: as.token_endpoint as string }),
    );
    expect(first.status).toBe(400);
    expect(await json(first)).toMatchObject({ error: 'use_dpop_nonce' });
    const nonce = first.headers.get('dpop-nonce') as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const second = await postToken(
      nonceServer,
      await dpopProof(key, { htm: 'POST', htu: as.token_endpoint as string, nonce }),
    );
    expect(second.status).toBe(200);
    expect(second.headers.get('dpop-nonce')).toBe(nonce);
    const forged = await postToken(
      nonceServer,
      await dpopProof(key, { htm: 'POST', htu: as.token_endpoint as string, nonce: 'A'.repeat(22) }),
    );
    expect((await json(forged)).error).toBe('use_dpop_nonce');

    // The library does the same dance on its own: isDPoPNonceError, then one retry.
    const dpop = oauth.DPoP(mobile, (await deviceKey()).keyPair);
    const tokens = await login(as, dpop);
    expect(tokens.token_type).toBe('dpop');
    expect((await refresh(as, tokens.refresh_token as string, dpop)).token_type).toBe('dpop');
  });

  it('the passgate/dpop helper lets an API accept the bound token with its proof, once', async () => {
    const { DpopRequestError, memoryReplayStore, verifyDpopRequest } = await import('passgate/dpop');
    const key = await dpopKey();
    const login = await postToken(
      server,
      await dpopProof(key, { htm: 'POST', htu: `${server.issuer}oauth/token` }),
      { scope: 'read:orders' },
    );
    const accessToken = (await json(login)).access_token as string;
    const url = 'https://api.example.com/orders?page=2';
    const options = {
      jwks: createRemoteJWKSet(new URL('.well-known/jwks.json', server.issuer)),
      issuer: server.issuer,
      audience: API,
      replay: memoryReplayStore(),
    };
    const proof = await dpopProof(key, { htm: 'GET', htu: 'https://api.example.com/orders', accessToken });
    const request = { method: 'GET', url, authorization: `DPoP ${accessToken}`, dpop: proof };
    const { payload, jkt } = await verifyDpopRequest(request, options);
    expect(jkt).toBe(key.jkt);
    expect(payload).toMatchObject({ scope: 'read:orders', cnf: { jkt: key.jkt } });

    const refusal = async (changed: Partial<typeof request>) => {
      const error = await verifyDpopRequest({ ...request, ...changed }, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DpopRequestError);
      return error as InstanceType<typeof DpopRequestError>;
    };
    expect((await refusal({})).error).toBe('invalid_dpop_proof'); // the same proof again
    const fresh = () => dpopProof(key, { htm: 'GET', htu: 'https://api.example.com/orders', accessToken });
    expect((await refusal({ authorization: `Bearer ${accessToken}`, dpop: await fresh() })).error).toBe(
      'invalid_token',
    );
    const otherKey = await dpopKey();
    const stolen = await refusal({
      dpop: await dpopProof(otherKey, { htm: 'GET', htu: 'https://api.example.com/orders', accessToken }),
    });
    expect(stolen.error).toBe('invalid_token');
    expect(stolen.wwwAuthenticate).toMatch(/^DPoP algs="[^"]+", error="invalid_token"$/);
    expect((await refusal({ method: 'POST', dpop: await fresh() })).error).toBe('invalid_dpop_proof');
    const bearerLogin = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
    });
    const unbound = (await json(bearerLogin)).access_token as string;
    expect((await refusal({ authorization: `DPoP ${unbound}`, dpop: await fresh() })).error).toBe(
      'invalid_token',
    );
  });

  it('userinfo refuses the DPoP scheme without a proof, with a proof for another token, or for an unbound token', async () => {
    const key = await dpopKey();
    const login = async (proof: string) =>
      (await json(await postToken(server, proof, { scope: 'openid' }))).access_token as string;
    const bound = await login(await dpopProof(key, { htm: 'POST', htu: `${server.issuer}oauth/token` }));
    const unbound = (
      await json(
        await server.token({
          grant_type: 'password',
          client_id: 'mobile-app',
          username: 'alice',
          password: PASSWORD,
          scope: 'openid',
        }),
      )
    ).access_token as string;
    const htu = `${server.issuer}userinfo`;
    const call = (token: string, proof?: string) =>
      fetch(htu, { headers: { Authorization: `DPoP ${token}`, ...(proof ? { DPoP: proof } : {}) } });
    const cases = [
      { response: await call(bound), error: 'invalid_dpop_proof' },
      {
        response: await call(bound, await dpopProof(key, { htm: 'GET', htu, accessToken: unbound })),
        error: 'invalid_dpop_proof',
      },
      { response: await call(bound, await dpopProof(key, { htm: 'GET', htu })), error: 'invalid_dpop_proof' },
      {
        response: await call(unbound, await dpopProof(key, { htm: 'GET', htu, accessToken: unbound })),
        error: 'invalid_token',
      },
    ];
    for (const { response, error } of cases) {
      expect(response.status).toBe(401);
      expect((await json(response)).error).toBe(error);
      expect(response.headers.get('www-authenticate')).toMatch(
        new RegExp(`^DPoP algs="[^"]+", error="${error}"`),
      );
    }
    const good = await call(bound, await dpopProof(key, { htm: 'GET', htu, accessToken: bound }));
    expect(good.status).toBe(200);
  });
});
