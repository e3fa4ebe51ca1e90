/**
 * The deployed artefacts, run as Lambda runs them: the function assets of a synthesized stack
 * (the real esbuild bundles plus the config file), each in a fresh Node process with only its own
 * folder as the task root, DynamoDB served by dynalite and KMS by a double on loopback. This is
 * what catches bundling, ESM/CommonJS, native-module and stack-versus-runtime naming mistakes.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import { createUser } from '../../functions/admin/user-admin.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { environment, type TableId, tableEnvironmentVariable } from '../../functions/deployment.ts';
import { type LocalStore, startEmbeddedStore } from '../../functions/local/embedded-store.ts';
import { repoRoot } from '../../functions/local/paths.ts';
import { systemClock } from '../../functions/oauth/ports.ts';
import type { EndpointName } from '../../functions/routes.ts';
import { localTableNames, tables } from '../../functions/store-schema.ts';
import { testConfig } from '../helpers/config.ts';
import { type KmsDouble, startKmsDouble, testKmsKey } from '../helpers/kms.ts';
import { endpointAssetDir, endpointFunction, synthStack } from '../helpers/stack.ts';

const API_DOMAIN = 'abc123defg.execute-api.eu-west-1.amazonaws.com';
const STAGE = 'prod';
const ISSUER = `https://${API_DOMAIN}/${STAGE}/`;
const PASSWORD = 'correct horse battery staple';

/** Loads the bundle like the Lambda runtime does (`index.handler` of an ES module) and invokes it. */
const DRIVER = `
const { handler } = await import(process.env.LAMBDA_TASK_ROOT + '/index.mjs');
process.on('message', async ({ id, event }) => process.send({ id, result: await handler(event) }));
process.send({ ready: true });
`;

interface Invoker {
  invoke(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  stop(): void;
}

let workDir: string;
let store: LocalStore;
let kms: KmsDouble;
const key = testKmsKey();
const invokers = new Map<EndpointName, Invoker>();
let synthesized: ReturnType<typeof synthStack>;
const assetDir = (endpoint: EndpointName) =>
  endpointAssetDir(synthesized.app, synthesized.template, endpoint);

/** The host's own argon2 binary stands in for the linux-arm64 one when the host is not linux-arm64. */
function addHostArgon2(taskRoot: string) {
  if (!existsSync(join(taskRoot, 'node_modules', '@node-rs', 'argon2'))) return;
  const installed = join(repoRoot, 'node_modules', '@node-rs');
  for (const name of readdirSync(installed).filter((entry) => entry.startsWith('argon2-'))) {
    const target = join(taskRoot, 'node_modules', '@node-rs', name);
    if (!existsSync(target)) cpSync(join(installed, name), target, { recursive: true });
  }
}

/** The function's environment from the template, with the AWS resources replaced by local ones. */
function localEnvironment(variables: Record<string, unknown>): Record<string, string> {
  const tableVariables = new Map(tables.map((table) => [tableEnvironmentVariable(table.id), table.id]));
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => {
      if (typeof value === 'string') return [name, value];
      const tableId = tableVariables.get(name);
      if (tableId) return [name, localTableNames[tableId as TableId]];
      if (name === environment.signingKeyId) return [name, key.keyId];
      throw new Error(`the smoke test cannot stand in for ${name} = ${JSON.stringify(value)}`);
    }),
  );
}

async function startFunction(endpoint: EndpointName, assetDir: string, variables: Record<string, unknown>) {
  const taskRoot = join(workDir, endpoint, 'task');
  cpSync(assetDir, taskRoot, { recursive: true });
  addHostArgon2(taskRoot);
  const driver = join(workDir, endpoint, 'driver.mjs');
  writeFileSync(driver, DRIVER);
  const child: ChildProcess = fork(driver, [], {
    execArgv: [],
    cwd: taskRoot,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH,
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'smoke-test',
      AWS_SECRET_ACCESS_KEY: 'smoke-test',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      ...localEnvironment(variables),
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const pending = new Map<number, (result: APIGatewayProxyResult) => void>();
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${endpoint} bundle exited (${code}):\n${output}`)));
    child.on('message', (message: { ready?: true; id?: number; result?: APIGatewayProxyResult }) => {
      if (message.ready) resolve();
      else if (message.id !== undefined && message.result) pending.get(message.id)?.(message.result);
    });
  });
  let nextId = 0;
  invokers.set(endpoint, {
    invoke(event) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, event });
      });
    },
    stop: () => child.kill(),
  });
}

/** A REST API (v1) proxy event as API Gateway sends it for the execute-api URL. */
function proxyEvent(
  method: 'GET' | 'POST',
  resource: string,
  options: { body?: string; contentType?: string } = {},
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Host: API_DOMAIN,
    'User-Agent': 'passgate-smoke-test',
    'X-Forwarded-For': '203.0.113.7',
    ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
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
      identity: { sourceIp: '203.0.113.7', userAgent: 'passgate-smoke-test' },
    },
  } as unknown as APIGatewayProxyEvent;
}

const tokenRequest = (password: string) =>
  proxyEvent('POST', '/oauth/token', {
    contentType: 'application/x-www-form-urlencoded',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password,
      scope: 'openid read:orders',
    }).toString(),
  });

const call = (endpoint: EndpointName, event: APIGatewayProxyEvent) =>
  (invokers.get(endpoint) as Invoker).invoke(event);

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'passgate-smoke-'));
  store = await startEmbeddedStore(join(workDir, 'dynalite'));
  kms = await startKmsDouble([key]);
  await createUser(
    {
      config: parseConfig(testConfig()),
      users: new DynamoUserStore(store.db, localTableNames.users),
      hasher: new Argon2Hasher(),
      clock: systemClock,
    },
    { realm: 'customers', username: 'alice', password: PASSWORD },
  );
  synthesized = synthStack();
  for (const endpoint of ['token', 'metadata'] as const) {
    const { properties } = endpointFunction(synthesized.template, endpoint);
    const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
    await startFunction(endpoint, assetDir(endpoint), variables);
  }
}, 60_000);

afterAll(async () => {
  for (const invoker of invokers.values()) invoker.stop();
  await kms?.close();
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

    const user = await new DynamoUserStore(store.db, localTableNames.users).findByUsername(
      'customers',
      'alice',
    );
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

  it('refuse a wrong password with the one invalid_grant message', async () => {
    const response = await call('token', tokenRequest('not the password'));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'invalid_grant',
      error_description: 'Wrong username or password.',
    });
  });

  it('answer 503 temporarily_unavailable when KMS cannot be reached', async () => {
    await kms.close();
    const response = await call('token', tokenRequest(PASSWORD));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).error).toBe('temporarily_unavailable');
  });
});

describe('function assets', () => {
  it('carry the linux-arm64 argon2 binary in the token function, whatever the build host', () => {
    const binary = join(
      assetDir('token'),
      'node_modules/@node-rs/argon2-linux-arm64-gnu/argon2.linux-arm64-gnu.node',
    );
    const header = readFileSync(binary).subarray(0, 20);
    expect(header.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // ELF
    expect(header[4]).toBe(2); // 64-bit
    expect(header.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    const loader = join(assetDir('token'), 'node_modules/@node-rs/argon2/index.js');
    expect(existsSync(loader)).toBe(true);
  });

  it('leave native modules out of functions that do not hash passwords', () => {
    expect(readdirSync(assetDir('metadata')).sort()).toEqual([
      'index.mjs',
      'index.mjs.map',
      'passgate.config.json',
    ]);
  });

  it('carry the validated tenant config beside the bundle', () => {
    const written = JSON.parse(readFileSync(join(assetDir('token'), 'passgate.config.json'), 'utf8'));
    expect(written).toEqual(parseConfig(testConfig()));
  });
});
