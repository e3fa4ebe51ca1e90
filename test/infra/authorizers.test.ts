import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrdersApiStack } from '../../examples/protected-api/stack.ts';
import { REST_AUTHORIZER_SOURCE } from '../../lib/rest-authorizer.ts';
import { API, STRICT_API } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

describe('protecting a team’s API from its own CDK app (passgate/authorizers)', () => {
  // A synth on a busy machine takes longer than the default test time, like the stack's own tests.
  it('the example stack synthesizes: an HTTP API JWT authorizer and a REST API token authorizer', {
    timeout: 120_000,
  }, () => {
    const app = new App();
    const stack = new OrdersApiStack(app, 'OrdersApi', {
      issuer: 'https://auth.shop.test/',
      audience: 'https://api.shop.test/',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://auth.shop.test/', Audience: ['https://api.shop.test/'] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /orders',
      AuthorizationType: 'JWT',
      AuthorizationScopes: ['read:orders'],
    });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Environment: {
        Variables: {
          PASSGATE_ISSUER: 'https://auth.shop.test/',
          PASSGATE_AUDIENCES: JSON.stringify(['https://api.shop.test/']),
        },
      },
      Code: { ZipFile: Match.stringLikeRegexp("require\\('node:crypto'\\)") },
    });
  });
});

describe('the REST API authorizer’s code against a running passgate', () => {
  let server: TestServer;
  let handler: (event: {
    authorizationToken?: string;
    methodArn: string;
  }) => Promise<Record<string, unknown>>;
  const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/orders';

  beforeAll(async () => {
    server = await startTestServer();
    await addUser(server, { username: 'reader', password: 'lantern at dusk' });
    // The inline source, run as Lambda runs it: CommonJS, with the function's environment.
    const module = { exports: {} as { handler: typeof handler } };
    runInNewContext(REST_AUTHORIZER_SOURCE, {
      module,
      exports: module.exports,
      require: createRequire(import.meta.url),
      process: { env: { PASSGATE_ISSUER: server.issuer, PASSGATE_AUDIENCES: JSON.stringify([API]) } },
      Buffer,
      fetch,
      Date,
      JSON,
    });
    handler = module.exports.handler;
  });
  afterAll(() => server.stop());

  const accessToken = async (audience = API) => {
    const response = await server.token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'reader',
      password: 'lantern at dusk',
      audience,
      scope: 'read:orders',
    });
    return ((await response.json()) as { access_token: string }).access_token;
  };

  it('allows a passgate access token, passing sub, scope and client_id on', async () => {
    const token = await accessToken();
    const decision = await handler({ authorizationToken: `Bearer ${token}`, methodArn });
    expect(decision).toMatchObject({
      principalId: expect.stringMatching(/^customers\|/),
      policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }] },
      context: { scope: 'read:orders', client_id: 'mobile-app' },
    });
  });

  it('refuses a tampered token, another audience, another signer, and no token at all', async () => {
    const token = await accessToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const { privateKey } = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    );
    const header0 = JSON.parse(Buffer.from(header, 'base64url').toString());
    const forged = await new SignJWT(claims).setProtectedHeader(header0).sign(privateKey);
    for (const authorizationToken of [
      `Bearer ${await accessToken(STRICT_API)}`, // signed by passgate, for another API
      `Bearer ${forged}`,
      `Bearer ${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      token,
      undefined,
    ]) {
      await expect(handler({ authorizationToken, methodArn })).rejects.toThrow('Unauthorized');
    }
  });
});
