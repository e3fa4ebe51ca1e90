import { beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../functions/admin/user-admin.ts';
import { tokenEndpoint } from '../../functions/endpoints/token.ts';
import { type ProxyHandler, proxyHandler } from '../../functions/http/handler.ts';
import { silentLogger } from '../../functions/logging.ts';
import { currentDpopNonce } from '../../functions/oauth/dpop/nonce.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { type DpopKey, dpopKey, dpopProof } from '../helpers/dpop.ts';
import { proxyEvent } from '../helpers/events.ts';
import { memoryServices } from '../helpers/memory-ports.ts';

/** The issuer API Gateway's `prod` stage gives (events.ts): scheme, host and stage. */
const STAGE_TOKEN_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/oauth/token';
const PASSWORD = 'correct horse battery staple';
/** Proofs are made on the services' fixed clock. */
const iat = () => Math.floor(services.clock.now() / 1000);

let key: DpopKey;
let services: Services;
beforeAll(async () => {
  key = await dpopKey();
  // No fixed issuer: as on AWS without a custom domain, it comes from each request.
  ({ services } = await memoryServices({ issuer: undefined, logger: silentLogger }));
  await createUser(
    { ...services, hasher: services.hasher },
    { realm: 'customers', username: 'alice', password: PASSWORD },
  );
});

const login = (handler: ProxyHandler, dpop: string) =>
  handler(
    proxyEvent({
      headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: dpop },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'alice',
        password: PASSWORD,
      }).toString(),
    }),
  );

describe('the token endpoint with a DPoP header', () => {
  it("takes htu to be the stage URL API Gateway reports (the issuer's real scheme and host)", async () => {
    const handler = proxyHandler(tokenEndpoint, async () => services);
    const ok = await login(handler, await dpopProof(key, { htm: 'POST', htu: STAGE_TOKEN_URL, iat: iat() }));
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).token_type).toBe('DPoP');
    const withoutStage = await login(
      handler,
      await dpopProof(key, {
        htm: 'POST',
        htu: 'https://abc123.execute-api.eu-west-1.amazonaws.com/oauth/token',
      }),
    );
    expect(withoutStage).toEqual({
      statusCode: 400,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: JSON.stringify({ error: 'invalid_dpop_proof', error_description: 'The DPoP proof is invalid.' }),
    });
  });

  it('answers use_dpop_nonce with the nonce in DPoP-Nonce, and hands the nonce out with tokens', async () => {
    const withNonces: Services = {
      ...services,
      config: { ...services.config, dpop: { requireNonce: true, proofMaxAgeSeconds: 60 } },
    };
    const handler = proxyHandler(tokenEndpoint, async () => withNonces);
    const nonce = currentDpopNonce(services.counterHashKey, services.clock.now());
    const refused = await login(
      handler,
      await dpopProof(key, { htm: 'POST', htu: STAGE_TOKEN_URL, iat: iat() }),
    );
    expect(refused).toEqual({
      statusCode: 400,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
        'DPoP-Nonce': nonce,
      },
      body: JSON.stringify({
        error: 'use_dpop_nonce',
        error_description: 'Authorization server requires nonce in DPoP proof.',
      }),
    });
    const ok = await login(
      handler,
      await dpopProof(key, { htm: 'POST', htu: STAGE_TOKEN_URL, nonce, iat: iat() }),
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.headers?.['DPoP-Nonce']).toBe(nonce);
  });
});
