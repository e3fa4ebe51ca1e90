import { createSign } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoStores } from '../../functions/adapters/dynamodb/stores.ts';
import { createUser } from '../../functions/admin/user-admin.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { type ProxyHandler, proxyHandler } from '../../functions/http/handler.ts';
import { type EndpointName, endpoints } from '../../functions/routes.ts';
import { BACKOFFICE_SECRET } from '../helpers/config.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { proxyEvent } from '../helpers/events.ts';
import { memoryServices } from '../helpers/memory-ports.ts';

/** How many arbitrary requests each property throws at the handler. */
const RUNS = 1500;

let dynamo: TestStore;
let handlers: Record<EndpointName, ProxyHandler>;
let handler: ProxyHandler;

beforeAll(async () => {
  dynamo = await openTestStore();
  const { services } = await memoryServices();
  const real = {
    ...services,
    ...dynamoStores(dynamo.db, dynamo.names),
  };
  await createUser(real, { realm: 'customers', username: 'alice', password: 'correct horse battery staple' });
  handlers = Object.fromEntries(
    (Object.keys(endpoints) as EndpointName[]).map((name) => [
      name,
      proxyHandler(endpoints[name], async () => real),
    ]),
  ) as Record<EndpointName, ProxyHandler>;
  handler = handlers.token;
});
afterAll(() => dynamo.close());

const PARAMS = [
  'grant_type',
  'username',
  'password',
  'realm',
  'audience',
  'resource',
  'scope',
  'client_id',
  'client_secret',
  'refresh_token',
];
const GRANTS = ['password', GRANT_PASSWORD_REALM, 'refresh_token', 'client_credentials', ''];

/** Plausible values mixed with hostile ones: huge, unicode, control characters, lone surrogates. */
const value = fc.oneof(
  fc.constantFrom(
    'alice',
    'mobile-app',
    'backoffice',
    'customers',
    'employees',
    'correct horse battery staple',
    BACKOFFICE_SECRET,
    'https://api.example.com/',
    'openid offline_access',
  ),
  fc.constantFrom(...GRANTS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 1000, maxLength: 3000 }),
  fc.constant('\ud800'),
);
const paramName = fc.oneof(
  fc.constantFrom(...PARAMS),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constant('__proto__'),
);
const params = fc.array(fc.tuple(paramName, value), { maxLength: 10 });

const formBody = params.map((pairs) =>
  pairs
    .map(
      ([name, v]) => `${encodeURIComponent(name)}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, 'x'))}`,
    )
    .join('&'),
);
const rawBody = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ maxLength: 20_000 }),
  fc.constant('%'),
  fc.constant('a=%zz'),
);
const jsonBody = fc.oneof(
  params.map((pairs) => JSON.stringify(Object.fromEntries(pairs))),
  fc.json(),
  fc.dictionary(fc.constantFrom(...PARAMS), fc.jsonValue()).map((o) => JSON.stringify(o)),
);
const contentType = fc.oneof(
  fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/X-WWW-FORM-URLENCODED;charset=latin1',
    'text/plain',
    'multipart/form-data; boundary=x',
    '',
  ),
  fc.string({ maxLength: 30 }),
);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Basic ${Buffer.from(`backoffice:${BACKOFFICE_SECRET}`).toString('base64')}`),
  fc.string({ maxLength: 60 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
  fc.string({ maxLength: 60 }).map((s) => `Basic ${s}`),
  fc.string({ maxLength: 60 }),
);

const request = fc.record({
  body: fc.oneof(formBody, rawBody, jsonBody, fc.constant(null)),
  contentType,
  authorization,
  base64: fc.boolean(),
  forwardedFor: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function eventOf(r: FuzzRequest): APIGatewayProxyEvent {
  const headers: Record<string, string> = { 'Content-Type': r.contentType };
  if (r.authorization !== undefined) headers.Authorization = r.authorization;
  if (r.forwardedFor !== undefined) headers['auth0-forwarded-for'] = r.forwardedFor;
  const body = r.body === null ? null : r.base64 ? Buffer.from(r.body).toString('base64') : r.body;
  return proxyEvent({ headers, body, isBase64Encoded: r.base64 && r.body !== null });
}

/** Well-formed requests from real clients whose every field value is arbitrary: these reach the store. */
const validEnvelope = fc.record({
  grant_type: fc.constantFrom('password', GRANT_PASSWORD_REALM),
  client: fc.constantFrom('mobile-app', 'realm-only'),
  username: value,
  password: value,
  realm: fc.option(value, { nil: undefined }),
  scope: fc.option(value, { nil: undefined }),
  audience: fc.option(value, { nil: undefined }),
  json: fc.boolean(),
});

function assertOAuthAnswer(response: Awaited<ReturnType<ProxyHandler>>) {
  expect(response.headers?.['Cache-Control']).toBe('no-store');
  if (response.statusCode === 200 && response.body === '') return; // RFC 7009 §2.2: revocation's empty 200
  const body = JSON.parse(response.body);
  if (response.statusCode === 200 && !('access_token' in body)) return; // introspection or userinfo document
  if (response.statusCode === 200) {
    expect(body).toMatchObject({
      access_token: expect.any(String),
      token_type: expect.stringMatching(/^(Bearer|DPoP)$/),
      scope: expect.any(String),
    });
  } else {
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    expect(typeof body.error_description).toBe('string');
  }
}

describe('endpoints under arbitrary input', () => {
  it('answers well-formed requests with arbitrary values as OAuth errors or tokens, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(validEnvelope, async (r) => {
        const fields = Object.fromEntries(
          Object.entries({
            grant_type: r.grant_type,
            client_id: r.client,
            username: r.username,
            password: r.password,
            realm: r.realm,
            scope: r.scope,
            audience: r.audience,
          }).filter(([, v]) => v !== undefined),
        ) as Record<string, string>;
        const body = r.json ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
        const contentType = r.json ? 'application/json' : 'application/x-www-form-urlencoded';
        assertOAuthAnswer(await handler(proxyEvent({ headers: { 'content-type': contentType }, body })));
      }),
      { numRuns: RUNS },
    );
  });

  it('answers every request with a JSON OAuth error (4xx) or a valid token response, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        assertOAuthAnswer(await handler(eventOf(r)));
      }),
      { numRuns: RUNS },
    );
  });

  for (const endpoint of ['revoke', 'introspect', 'userinfo'] as const) {
    it(`answers arbitrary requests to ${endpoint} with a JSON OAuth error (4xx) or a success, never a 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(
          request,
          fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
          async (r, bearer) => {
            const event = eventOf(r);
            if (endpoint === 'userinfo') {
              event.httpMethod = bearer === undefined ? 'POST' : 'GET';
              if (bearer !== undefined) event.headers.Authorization = `Bearer ${bearer}`;
            }
            const response = await handlers[endpoint](event);
            expect(response.statusCode).toBeLessThan(500);
            if (response.statusCode >= 400) {
              expect(Object.keys(JSON.parse(response.body)).sort()).toEqual(['error', 'error_description']);
            }
          },
        ),
        { numRuns: RUNS / 3 },
      );
    });
  }
});

describe('the DPoP header under arbitrary input', () => {
  const HTU = 'https://auth.example.com/oauth/token';
  const b64 = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).toString('base64url');
  let keys: { publicJwk: JWK; privateJwk: JWK };
  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    keys = { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
  });

  const jwk = fc.oneof(
    fc.constant('public'),
    fc.constant('private'),
    fc.constant({ kty: 'oct', k: 'c2VjcmV0' }),
    fc.jsonValue(),
  );
  const header = fc.record({
    alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'EdDSA', 'HS256', 'none', 'ES256K'), fc.jsonValue()),
    typ: fc.oneof(fc.constantFrom('dpop+jwt', 'JWT'), fc.jsonValue()),
    jwk,
    crit: fc.option(fc.jsonValue(), { nil: undefined }),
  });
  const claims = fc.record({
    jti: fc.oneof(fc.uuid(), fc.jsonValue(), fc.string({ minLength: 200, maxLength: 400 })),
    htm: fc.oneof(fc.constantFrom('POST', 'GET', 'post'), fc.jsonValue()),
    htu: fc.oneof(fc.constantFrom(HTU, `${HTU}?q#f`, 'https://other/oauth/token', ''), fc.string()),
    iat: fc.oneof(fc.constant('now'), fc.integer(), fc.double(), fc.jsonValue()),
    nonce: fc.option(fc.jsonValue(), { nil: undefined }),
  });
  const resolveJwk = (value: unknown) =>
    value === 'public' ? keys.publicJwk : value === 'private' ? keys.privateJwk : value;
  const resolveClaims = (value: Record<string, unknown>) => ({
    ...value,
    iat: value.iat === 'now' ? Math.floor(Date.now() / 1000) : value.iat,
  });
  /** Signed by the key in its jwk where that is the real key; anything can still be wrong. */
  const signed = fc.tuple(header, claims).map(([h, c]) => async () => {
    const protectedHeader = { ...h, alg: 'ES256', jwk: resolveJwk(h.jwk) } as Record<string, unknown>;
    const input = `${b64(protectedHeader)}.${b64(resolveClaims(c))}`;
    const signature = createSign('SHA256')
      .update(input)
      .sign({ key: keys.privateJwk as never, format: 'jwk', dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  });
  const unsigned = fc.tuple(header, claims, fc.uint8Array({ maxLength: 96 })).map(
    ([h, c, signature]) =>
      async () =>
        `${b64({ ...h, jwk: resolveJwk(h.jwk) })}.${b64(resolveClaims(c))}.${Buffer.from(signature).toString('base64url')}`,
  );
  const raw = fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ minLength: 9000, maxLength: 20_000 }),
      fc.array(fc.string({ maxLength: 40 }), { maxLength: 4 }).map((parts) => parts.join('.')),
    )
    .map((value) => async () => value);
  const proof = fc.oneof(signed, unsigned, raw);

  it('answers a login with any DPoP header 200 (a good proof) or 400 invalid_dpop_proof, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(proof, fc.boolean(), async (make, twice) => {
        const value = await make();
        const event = proxyEvent({
          headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: value },
          body: new URLSearchParams({
            grant_type: 'password',
            client_id: 'mobile-app',
            username: 'alice',
            password: 'correct horse battery staple',
          }).toString(),
        });
        if (twice) event.multiValueHeaders = { DPoP: [value, value] };
        const response = await handler(event);
        assertOAuthAnswer(response);
        expect([200, 400]).toContain(response.statusCode);
        if (response.statusCode === 400) expect(JSON.parse(response.body).error).toBe('invalid_dpop_proof');
        if (twice) expect(response.statusCode).toBe(400);
      }),
      { numRuns: RUNS / 3 },
    );
  });

  it('answers userinfo with any DPoP proof 401 or 403, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(proof, fc.string({ maxLength: 80 }), async (make, token) => {
        const event = proxyEvent({
          method: 'GET',
          path: '/userinfo',
          headers: { Authorization: `DPoP ${token}`, DPoP: await make() },
        });
        const response = await handlers.userinfo(event);
        expect([401, 403]).toContain(response.statusCode);
        expect(Object.keys(JSON.parse(response.body)).sort()).toEqual(['error', 'error_description']);
      }),
      { numRuns: RUNS / 3 },
    );
  });
});
