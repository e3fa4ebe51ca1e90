/**
 * The deployed artefacts, run as Lambda runs them: the function assets of a synthesized stack
 * (the real esbuild bundles plus the config file), each in a fresh Node process with only its own
 * folder as the task root, DynamoDB served by dynalite, KMS and Secrets Manager by doubles on
 * loopback. This is what catches bundling, ESM/CommonJS, native-module and stack-versus-runtime
 * naming mistakes.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoStores } from '../../functions/adapters/dynamodb/stores.ts';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import { counterHashKeyOf } from '../../functions/adapters/secrets/counter-hash-key.ts';
import { type AdminServices, createUser, realmOf } from '../../functions/admin/user-admin.ts';
import { importUsers } from '../../functions/admin/user-import.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { environment, type TableId, tableEnvironmentVariable } from '../../functions/deployment.ts';
import { type LocalStore, startEmbeddedStore } from '../../functions/local/embedded-store.ts';
import { systemClock, type UserRecord } from '../../functions/oauth/ports.ts';
import { readLoginCounters } from '../../functions/oauth/protection/brute-force.ts';
import { type EndpointName, endpoints } from '../../functions/routes.ts';
import { localTableNames, tables } from '../../functions/store-schema.ts';
import { BACKOFFICE_SECRET, testConfig } from '../helpers/config.ts';
import { type KmsDouble, MFA_KEY_ID, startKmsDouble, testKmsKey } from '../helpers/kms.ts';
import {
  type FunctionProcess,
  lambdaEnvironment,
  prepareTaskRoot,
  startFunctionProcess,
} from '../helpers/lambda-task.ts';
import { bcryptFields } from '../helpers/legacy-hashes.ts';
import {
  type SecretsManagerDouble,
  startSecretsManagerDouble,
  TEST_COUNTER_KEY_SECRET,
  testSecretArn,
} from '../helpers/secrets-manager.ts';
import { endpointAssetDir, endpointFunction, synthStack } from '../helpers/stack.ts';

const API_DOMAIN = 'abc123defg.execute-api.eu-west-1.amazonaws.com';
const STAGE = 'prod';
const ISSUER = `https://${API_DOMAIN}/${STAGE}/`;
const PASSWORD = 'correct horse battery staple';
const SOURCE_IP = '203.0.113.7';
const SECRET_ARN = testSecretArn();
const endpointNames = Object.keys(endpoints) as EndpointName[];
/** The functions that hash passwords: their bundles carry argon2's native module. */
const HASHING: readonly EndpointName[] = ['token', 'signup', 'account-delete', 'reset-password'];
/** The functions that read the counters' key (brute-force counters, hourly limits, the reset form's token). */
const COUNTING: readonly EndpointName[] = [
  'token',
  'signup',
  'account-delete',
  'change-password',
  'reset-password',
];
/** The test config, with accounts the mobile app's users may delete. */
const config = (() => {
  const base = testConfig();
  return {
    ...base,
    clients: (base.clients ?? []).map((client) =>
      client.clientId === 'mobile-app' ? { ...client, allowAccountDeletion: true } : client,
    ),
  };
})();

let workDir: string;
let store: LocalStore;
let kms: KmsDouble;
let secretsManager: SecretsManagerDouble;
let admin: AdminServices;
let alice: UserRecord;
const key = testKmsKey();
const invokers = new Map<EndpointName, FunctionProcess>();
let synthesized: ReturnType<typeof synthStack>;
/** index.mjs and its chunks. */
const javaScriptOf = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.mjs') && !file.startsWith('node_modules'))
    .map((file) => join(dir, file));

/**
 * The files a cold start reads and compiles: index.mjs and the chunks reached from it by static
 * `import`s (esbuild writes them as `from"./chunks/…"` or `import"./chunks/…"`), not `import()`s.
 */
function loadedAtColdStart(dir: string, file = 'index.mjs', seen = new Set<string>()): Set<string> {
  seen.add(file);
  const code = readFileSync(join(dir, file), 'utf8');
  for (const [, path] of code.matchAll(/(?:from|import)\s*"\.\/((?:chunks\/)?[\w.-]+\.mjs)"/g)) {
    const target = file.startsWith('chunks/') && !path?.startsWith('chunks/') ? `chunks/${path}` : path;
    if (target && !seen.has(target)) loadedAtColdStart(dir, target, seen);
  }
  return seen;
}

const assetDir = (endpoint: EndpointName) =>
  endpointAssetDir(synthesized.app, synthesized.template, endpoint);

/** The function's environment from the template, with the AWS resources replaced by local ones. */
function localEnvironment(variables: Record<string, unknown>): Record<string, string> {
  const tableVariables = new Map(tables.map((table) => [tableEnvironmentVariable(table.id), table.id]));
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => {
      if (typeof value === 'string') return [name, value];
      const tableId = tableVariables.get(name);
      if (tableId) return [name, localTableNames[tableId as TableId]];
      if (name === environment.signingKeyId) return [name, key.keyId];
      if (name === environment.counterKeySecretArn) return [name, SECRET_ARN];
      if (name === environment.mfaKeyId) return [name, MFA_KEY_ID];
      throw new Error(`the smoke test cannot stand in for ${name} = ${JSON.stringify(value)}`);
    }),
  );
}

async function startFunction(endpoint: EndpointName, assetDir: string, variables: Record<string, unknown>) {
  mkdirSync(join(workDir, endpoint));
  const taskRoot = prepareTaskRoot(assetDir, join(workDir, endpoint, 'task'));
  const endpoints = { dynamodb: store.endpoint, kms: kms.endpoint, secretsManager: secretsManager.endpoint };
  invokers.set(
    endpoint,
    await startFunctionProcess(taskRoot, { ...lambdaEnvironment(endpoints), ...localEnvironment(variables) }),
  );
}

/** A REST API (v1) proxy event as API Gateway sends it for the execute-api URL. */
function proxyEvent(
  method: 'GET' | 'POST',
  resource: string,
  options: { body?: string; contentType?: string; authorization?: string } = {},
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Host: API_DOMAIN,
    'User-Agent': 'passgate-smoke-test',
    'X-Forwarded-For': SOURCE_IP,
    ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
    ...(options.authorization ? { Authorization: options.authorization } : {}),
  };
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '111122223333',
      apiId: 'abc123defg',
      domainName: API_DOMAIN,
      domainPrefix: 'abc123defg',
      httpMethod: method,
      path: `/${STAGE}${resource}`,
      protocol: 'HTTP/1.1',
      requestId: `request-${Math.random().toString(16).slice(2)}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'resource',
      resourcePath: resource,
      stage: STAGE,
      identity: { sourceIp: SOURCE_IP, userAgent: 'passgate-smoke-test' },
    },
  } as unknown as APIGatewayProxyEvent;
}

const formPost = (resource: string, params: Record<string, string>, authorization?: string) =>
  proxyEvent('POST', resource, {
    contentType: 'application/x-www-form-urlencoded',
    body: new URLSearchParams(params).toString(),
    ...(authorization ? { authorization } : {}),
  });

const tokenRequest = (password: string, scope = 'openid read:orders') =>
  formPost('/oauth/token', {
    grant_type: 'password',
    client_id: 'mobile-app',
    username: 'alice',
    password,
    scope,
  });

const refreshRequest = (refreshToken: string) =>
  formPost('/oauth/token', {
    grant_type: 'refresh_token',
    client_id: 'mobile-app',
    refresh_token: refreshToken,
  });

const call = (endpoint: EndpointName, event: APIGatewayProxyEvent) =>
  (invokers.get(endpoint) as FunctionProcess).invoke(event);

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'passgate-smoke-'));
  store = await startEmbeddedStore(join(workDir, 'dynalite'));
  kms = await startKmsDouble([key]);
  secretsManager = await startSecretsManagerDouble({ [SECRET_ARN]: TEST_COUNTER_KEY_SECRET });
  admin = {
    config: parseConfig(config),
    ...dynamoStores(store.db, localTableNames),
    counterHashKey: counterHashKeyOf(TEST_COUNTER_KEY_SECRET, SECRET_ARN),
    hasher: new Argon2Hasher(),
    clock: systemClock,
  };
  alice = await createUser(admin, {
    realm: 'customers',
    username: 'alice',
    password: PASSWORD,
    email: 'alice@example.com',
    name: 'Alice',
  });
  synthesized = synthStack({ config });
  const start = (endpoint: EndpointName) => {
    const { properties } = endpointFunction(synthesized.template, endpoint);
    const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
    return startFunction(endpoint, assetDir(endpoint), variables);
  };
  // The token function reads the counters' secret during its init: started last, it does not find
  // this process (and so the doubles) busy copying the other functions' task roots.
  await Promise.all(endpointNames.filter((endpoint) => endpoint !== 'token').map(start));
  await start('token');
}, 120_000);

afterAll(async () => {
  for (const invoker of invokers.values()) invoker.stop();
  await kms?.close();
  await secretsManager?.close();
  await store?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('Lambda bundles', () => {
  it('log a user in with the password grant, end to end, with tokens the JWKS verifies', async () => {
    const response = await call('token', tokenRequest(PASSWORD));
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'openid read:orders' });

    const jwks = await call('metadata', proxyEvent('GET', '/.well-known/jwks.json'));
    expect(jwks.statusCode).toBe(200);
    const keySet = createLocalJWKSet(JSON.parse(jwks.body));
    const { payload, protectedHeader } = await jwtVerify(body.access_token, keySet, {
      issuer: ISSUER,
      audience: 'https://api.example.com/',
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ client_id: 'mobile-app', gty: 'password', scope: 'openid read:orders' });
    await jwtVerify(body.id_token, keySet, { issuer: ISSUER, audience: 'mobile-app' });

    const user = await admin.users.findByUsername('customers', 'alice');
    expect(user?.logins_count).toBe(1);
    expect(kms.calls.filter((c) => c.target === 'TrentService.Sign').map((c) => c.body.MessageType)).toEqual([
      'DIGEST',
      'DIGEST',
    ]);
  });

  it('put the same issuer in tokens as in the discovery document', async () => {
    const token = JSON.parse((await call('token', tokenRequest(PASSWORD))).body).access_token;
    for (const document of ['openid-configuration', 'oauth-authorization-server']) {
      const discovery = await call('metadata', proxyEvent('GET', `/.well-known/${document}`));
      expect(discovery.statusCode).toBe(200);
      const metadata = JSON.parse(discovery.body);
      expect(metadata.issuer).toBe(ISSUER);
      expect(decodeJwt(token).iss).toBe(metadata.issuer);
      expect(metadata.token_endpoint).toBe(`${ISSUER}oauth/token`);
      // The config file written beside the bundle was read: its API scopes are advertised.
      expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['read:orders', 'read:reports']));
    }
  });

  it("refuse a wrong password with the one invalid_grant message, counted under the secret's key", async () => {
    const response = await call('token', tokenRequest('not the password'));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'invalid_grant',
      error_description: 'Wrong email or password.',
    });
    // The CLI derives the counters' key from the same secret: it finds what the function counted.
    const now = Math.floor(Date.now() / 1000);
    const counters = await readLoginCounters(
      admin,
      realmOf(admin.config, 'customers'),
      'alice',
      SOURCE_IP,
      now,
    );
    expect(counters.state).toMatchObject({ consecutiveFailures: 1, ipFailures: 1 });
  });

  it('rotate a refresh token: password grant, then refresh grant, through the token function', async () => {
    const login = JSON.parse(
      (await call('token', tokenRequest(PASSWORD, 'openid offline_access read:orders'))).body,
    );
    expect(login.refresh_token).toMatch(/^[A-Za-z0-9_-]{100,}$/);

    const refreshed = await call('token', refreshRequest(login.refresh_token));
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.headers).toMatchObject({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const body = JSON.parse(refreshed.body);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid offline_access read:orders' });
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    expect(body.refresh_token).not.toBe(login.refresh_token);
    const keySet = createLocalJWKSet(
      JSON.parse((await call('metadata', proxyEvent('GET', '/.well-known/jwks.json'))).body),
    );
    const { payload } = await jwtVerify(body.access_token, keySet, { issuer: ISSUER, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: `customers|${alice.user_id}`, gty: 'refresh_token' });

    // The rotated-out token no longer works (and, reused, ends the family).
    const reused = await call('token', refreshRequest(login.refresh_token));
    expect(reused.statusCode).toBe(400);
    expect(JSON.parse(reused.body).error).toBe('invalid_grant');
  });

  it('revoke a refresh token through the revoke function: its family ends', async () => {
    const login = JSON.parse(
      (await call('token', tokenRequest(PASSWORD, 'offline_access read:orders'))).body,
    );
    const revoked = await call(
      'revoke',
      formPost('/oauth/revoke', { client_id: 'mobile-app', token: login.refresh_token }),
    );
    expect(revoked.statusCode).toBe(200);
    expect(revoked.body).toBe('');
    const refused = await call('token', refreshRequest(login.refresh_token));
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body).error).toBe('invalid_grant');
  });

  it("introspect a confidential client's own access token through the introspect function, and no other's", async () => {
    const basic = `Basic ${Buffer.from(`backoffice:${BACKOFFICE_SECRET}`).toString('base64')}`;
    const erin = await createUser(admin, { realm: 'employees', username: 'erin', password: PASSWORD });
    const own = await call(
      'token',
      formPost(
        '/oauth/token',
        {
          grant_type: GRANT_PASSWORD_REALM,
          realm: 'employees',
          username: 'erin',
          password: PASSWORD,
          scope: 'read:orders',
        },
        basic,
      ),
    );
    const introspect = async (token: string) =>
      JSON.parse((await call('introspect', formPost('/oauth/introspect', { token }, basic))).body);
    expect(await introspect(JSON.parse(own.body).access_token)).toMatchObject({
      active: true,
      token_type: 'Bearer',
      client_id: 'backoffice',
      sub: `employees|${erin.user_id}`,
      iss: ISSUER,
      scope: 'read:orders',
    });
    // The mobile app's token is not the back office's to see (introspection "own", the default).
    const { access_token: other } = JSON.parse((await call('token', tokenRequest(PASSWORD))).body);
    expect(await introspect(other)).toEqual({ active: false });
  });

  it.each(['GET', 'POST'] as const)('answer userinfo by %s through the userinfo function', async (method) => {
    const { access_token: accessToken } = JSON.parse(
      (await call('token', tokenRequest(PASSWORD, 'openid profile email'))).body,
    );
    const response = await call(
      'userinfo',
      proxyEvent(method, '/userinfo', { authorization: `Bearer ${accessToken}` }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store' });
    expect(JSON.parse(response.body)).toEqual({
      sub: `customers|${alice.user_id}`,
      preferred_username: 'alice',
      name: 'Alice',
      updated_at: Math.floor(Date.parse(alice.updated_at) / 1000),
      email: 'alice@example.com',
      email_verified: false,
    });
  });

  it('log in a user imported with a bcrypt hash: its verifier is a chunk of its own, loaded on first use', async () => {
    const password = 'bcrypt from another system';
    const report = await importUsers(admin, {
      realm: 'customers',
      rows: [
        { row: 1, value: { email: 'bob@example.com', user_id: 'auth0|bob', ...bcryptFields(password, 4) } },
      ],
    });
    expect(report).toMatchObject({ imported: 1 });
    const response = await call(
      'token',
      formPost('/oauth/token', {
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'bob@example.com',
        password,
        scope: 'read:orders',
      }),
    );
    expect(response.statusCode).toBe(200);
    const bob = await admin.users.findByUsername('customers', 'bob@example.com');
    expect(bob?.password_hash).toMatch(/^\$argon2id\$/); // upgraded at login
  });

  it('delete an account through the account-delete function: argon2 and the counters in its bundle', async () => {
    await createUser(admin, { realm: 'customers', username: 'dora', password: PASSWORD });
    const login = await call(
      'token',
      formPost('/oauth/token', {
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'dora',
        password: PASSWORD,
        scope: 'offline_access',
      }),
    );
    const { access_token: accessToken, refresh_token: refreshToken } = JSON.parse(login.body);
    const wrong = await call(
      'account-delete',
      formPost('/account/delete', { password: 'not the password' }, `Bearer ${accessToken}`),
    );
    expect(wrong.statusCode).toBe(400);
    const deleted = await call(
      'account-delete',
      formPost('/account/delete', { password: PASSWORD }, `Bearer ${accessToken}`),
    );
    expect(deleted.statusCode).toBe(204);
    expect(await admin.users.findByUsername('customers', 'dora')).toBeUndefined();
    expect((await call('token', refreshRequest(refreshToken))).statusCode).toBe(400);
  });

  it("read the counters' secret once per cold start, in the functions that count only", () => {
    // The token and account-delete functions have served requests by now; each read it once.
    expect(secretsManager.calls).toEqual([
      { target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ARN } },
      { target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ARN } },
    ]);
  });

  it('answer 503 temporarily_unavailable when KMS cannot be reached', async () => {
    await kms.close();
    const response = await call('token', tokenRequest(PASSWORD));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).error).toBe('temporarily_unavailable');
  });
});

describe('function assets', () => {
  it.each(HASHING)(
    'carry the linux-arm64 argon2 binary in the %s function, whatever the build host',
    (endpoint) => {
      const binary = join(
        assetDir(endpoint),
        'node_modules/@node-rs/argon2-linux-arm64-gnu/argon2.linux-arm64-gnu.node',
      );
      const header = readFileSync(binary).subarray(0, 20);
      expect(header.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // ELF
      expect(header[4]).toBe(2); // 64-bit
      expect(header.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
      const loader = join(assetDir(endpoint), 'node_modules/@node-rs/argon2/index.js');
      expect(existsSync(loader)).toBe(true);
    },
  );

  it.each(endpointNames.filter((endpoint) => !HASHING.includes(endpoint) && !COUNTING.includes(endpoint)))(
    'leave native modules and the Secrets Manager client out of the %s function',
    (endpoint) => {
      // esbuild moves bundled packages' licence notices (otpauth's, in the MFA functions) beside the code.
      const files = readdirSync(assetDir(endpoint)).filter((file) => file !== 'index.mjs.LEGAL.txt');
      expect(files.sort()).toEqual(['chunks', 'index.mjs', 'index.mjs.map', 'passgate.config.json']);
      for (const file of javaScriptOf(assetDir(endpoint))) {
        expect(readFileSync(file, 'utf8')).not.toMatch(/secretsmanager/i);
      }
    },
  );

  it.each(COUNTING.filter((endpoint) => !HASHING.includes(endpoint)))(
    'leave native modules out of the %s function, which hashes no password',
    (endpoint) => {
      const files = readdirSync(assetDir(endpoint)).filter((file) => file !== 'index.mjs.LEGAL.txt');
      expect(files.sort()).toEqual(['chunks', 'index.mjs', 'index.mjs.map', 'passgate.config.json']);
    },
  );

  it('keep the SES client out of what the token function loads at a cold start', () => {
    const dir = assetDir('token');
    const loaded = [...loadedAtColdStart(dir)];
    const holding = (pattern: RegExp) =>
      loaded.filter((file) => pattern.test(readFileSync(join(dir, file), 'utf8')));
    // The loaded code is found: it holds the clients a login uses.
    expect(holding(/DynamoDB_20120810/).length).toBeGreaterThan(0);
    expect(holding(/SendEmail/)).toEqual([]);
    // The signup function sends mail: its bundle has the SES client, in a chunk it loads with its services.
    const signup = javaScriptOf(assetDir('signup')).map((file) => readFileSync(file, 'utf8'));
    expect(signup.some((text) => /SendEmail/.test(text))).toBe(true);
  });

  it('carry the validated tenant config beside the bundle', () => {
    const written = JSON.parse(readFileSync(join(assetDir('token'), 'passgate.config.json'), 'utf8'));
    expect(written).toEqual(parseConfig(config));
  });
});
