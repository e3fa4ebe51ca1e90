import { describe, expect, it } from 'vitest';
import { translateDynamoError } from '../../functions/adapters/dynamodb/errors.ts';
import { metadataEndpoint } from '../../functions/endpoints/metadata.ts';
import { tokenEndpoint } from '../../functions/endpoints/token.ts';
import { parseBody } from '../../functions/http/body.ts';
import { DEADLINE_MARGIN_MS, proxyHandler } from '../../functions/http/handler.ts';
import { errorResponse } from '../../functions/http/respond.ts';
import { type Logger, silentLogger } from '../../functions/logging.ts';
import { DependencyUnavailableError, OAuthError } from '../../functions/oauth/errors.ts';
import { proxyEvent } from '../helpers/events.ts';
import { memoryServices } from '../helpers/memory-ports.ts';

const NO_STORE = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger: Logger = { log: (level, message, fields) => lines.push({ level, message, ...fields }) };
  return { logger, lines };
}

describe('request body parsing', () => {
  const form = (body: string) =>
    proxyEvent({ headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });

  it('decodes form bodies, with + as space and empty values as omitted', () => {
    expect(parseBody(form('username=a+b%40c&password=&scope=x%20y'))).toEqual({
      username: 'a b@c',
      password: undefined,
      scope: 'x y',
    });
  });

  it('accepts a charset parameter and base64-encoded bodies', () => {
    const event = proxyEvent({
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: Buffer.from('grant_type=password').toString('base64'),
      isBase64Encoded: true,
    });
    expect(parseBody(event)).toEqual({ grant_type: 'password' });
  });

  it('does not let a parameter named like an Object property through the prototype', () => {
    const params = parseBody(form('__proto__=x&constructor=y'));
    expect(Object.keys(params).sort()).toEqual(['__proto__', 'constructor']);
    expect(params.toString).toBeUndefined();
  });

  const jsonBody = (body: string) => proxyEvent({ headers: { 'Content-Type': 'application/json' }, body });
  const refusal = (event: ReturnType<typeof proxyEvent>) => {
    try {
      parseBody(event);
    } catch (error) {
      return [(error as OAuthError).error, (error as OAuthError).description];
    }
    return undefined;
  };

  it('refuses a parameter given twice, in a JSON body as in a form, naming it (RFC 6749 section 3.2)', () => {
    for (const event of [
      jsonBody('{"username":"alice","password":"a","password":"b"}'),
      jsonBody('{"password":"a","pass\\u0077ord":"b","username":"alice"}'),
      jsonBody('{"password":"","password":"b"}'),
      form('username=alice&password=a&password=b'),
      form('password=&password=b'),
    ]) {
      expect(refusal(event)).toEqual(['invalid_request', "Parameter 'password' is given more than once."]);
    }
  });

  it('reads JSON bodies strictly: one object of strings, JSON only', () => {
    expect(parseBody(jsonBody('{"grant_type":"password","scope":null,"audience":""}'))).toEqual({
      grant_type: 'password',
    });
    const params = parseBody(jsonBody('{"__proto__":"x","constructor":"y"}'));
    expect(Object.keys(params).sort()).toEqual(['__proto__', 'constructor']);
    for (const body of [
      '{"a":"b",}',
      "{'a':'b'}",
      '{a:"b"}',
      '// x\n{}',
      '["a"]',
      '"a"',
      '{"a":1}',
      '{"a":{}}',
    ]) {
      expect(refusal(jsonBody(body))?.[0], body).toBe('invalid_request');
    }
  });
});

describe('error mapping', () => {
  it('sends only error and error_description, with no-store headers', () => {
    const response = errorResponse(
      new OAuthError(400, 'invalid_grant', 'Wrong email or password.', 'unknown user'),
      silentLogger,
      'r1',
    );
    expect(response).toEqual({
      statusCode: 400,
      headers: NO_STORE,
      body: '{"error":"invalid_grant","error_description":"Wrong email or password."}',
    });
  });

  it('turns a dependency failure into 503 temporarily_unavailable and logs which one', () => {
    const { logger, lines } = recordingLogger();
    const response = errorResponse(
      new DependencyUnavailableError(
        'dynamodb',
        'GetItem',
        Object.assign(new Error('x'), { name: 'ThrottlingException' }),
      ),
      logger,
      'r2',
    );
    expect(response.statusCode).toBe(503);
    expect(response.headers).toEqual({ ...NO_STORE, 'Retry-After': '1' });
    expect(JSON.parse(response.body).error).toBe('temporarily_unavailable');
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'dependency unavailable',
        requestId: 'r2',
        dependency: 'dynamodb',
        operation: 'GetItem',
        cause: 'ThrottlingException',
      },
    ]);
  });

  it("answers a write that a sign-in's transaction turned away as 503, not 500", () => {
    const conflict = translateDynamoError(
      Object.assign(new Error('Transaction is ongoing for the item'), {
        name: 'TransactionConflictException',
      }),
      'UpdateItem',
    );
    expect(conflict).toBeInstanceOf(DependencyUnavailableError);
    expect(errorResponse(conflict, recordingLogger().logger, 'r4').statusCode).toBe(503);
  });

  it('hides unexpected errors behind server_error and logs them', () => {
    const { logger, lines } = recordingLogger();
    const response = errorResponse(new TypeError('secret internals'), logger, 'r3');
    expect(response).toEqual({
      statusCode: 500,
      headers: NO_STORE,
      body: '{"error":"server_error","error_description":"An unexpected error occurred."}',
    });
    expect(lines[0]).toMatchObject({
      level: 'error',
      message: 'unexpected error',
      requestId: 'r3',
      name: 'TypeError',
      errorMessage: 'secret internals',
    });
  });
});

describe('lambda handlers', () => {
  it('answers a token request event with the exact success headers', async () => {
    const { services } = await memoryServices();
    const handler = proxyHandler(tokenEndpoint, async () => services);
    const response = await handler(
      proxyEvent({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password&client_id=mobile-app&username=nobody&password=whatever-it-is',
      }),
    );
    expect(response).toEqual({
      statusCode: 400,
      headers: NO_STORE,
      body: '{"error":"invalid_grant","error_description":"Wrong email or password."}',
    });
  });

  it('keeps error_description to the characters RFC 6749 §5.2 allows, whatever the client sent', async () => {
    const { services } = await memoryServices();
    const handler = proxyHandler(tokenEndpoint, async () => ({ ...services, logger: silentLogger }));
    const oddName = 'pa\u00e9"\\x\u2028';
    for (const event of [
      proxyEvent({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [oddName]: 1 }) }),
      proxyEvent({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=password&client_id=mobile-app&username=a&password=b&scope=${encodeURIComponent('a  b')}`,
      }),
    ]) {
      const response = await handler(event);
      expect(response.statusCode).toBe(400);
      const description = JSON.parse(response.body).error_description as string;
      expect(description.length).toBeGreaterThan(10);
      expect(description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
    }
  });

  it("answers 503 itself before Lambda's timeout when its dependencies keep it waiting", async () => {
    const { services } = await memoryServices();
    let fail: (error: Error) => void = () => undefined;
    const handler = proxyHandler(
      () => new Promise((_, reject) => (fail = reject)), // a dependency that hangs, then fails late
      async () => ({ ...services, logger: silentLogger }),
    );
    const started = performance.now();
    const response = await handler(proxyEvent({ method: 'GET', path: '/.well-known/jwks.json' }), {
      getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + 50,
    });
    expect(performance.now() - started).toBeLessThan(DEADLINE_MARGIN_MS);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).error).toBe('temporarily_unavailable');
    fail(new Error('too late')); // answered already: this must not surface as an unhandled rejection
    // With time to spare, the endpoint's own answer is the answer.
    const fast = proxyHandler(metadataEndpoint, async () => ({ ...services, logger: silentLogger }));
    const ok = await fast(proxyEvent({ method: 'GET', path: '/.well-known/jwks.json' }), {
      getRemainingTimeInMillis: () => 10_000,
    });
    expect(ok.statusCode).toBe(200);
  });

  it('derives the issuer from the stage URL when none is configured', async () => {
    const { services } = await memoryServices({ issuer: undefined });
    const handler = proxyHandler(metadataEndpoint, async () => services);
    const response = await handler(proxyEvent({ method: 'GET', path: '/.well-known/openid-configuration' }));
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=300',
      // Public documents: any page may read them (OpenID Connect Discovery, RFC 8414).
      'Access-Control-Allow-Origin': '*',
    });
    const document = JSON.parse(response.body);
    expect(document.issuer).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/');
    expect(document.token_endpoint).toBe(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/oauth/token',
    );
  });

  it('serves only public members in the JWKS', async () => {
    const { services } = await memoryServices();
    const handler = proxyHandler(metadataEndpoint, async () => services);
    const response = await handler(proxyEvent({ method: 'GET', path: '/.well-known/jwks.json' }));
    const { keys } = JSON.parse(response.body);
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  });

  it('answers 503 when building the services fails on a dependency, and retries next time', async () => {
    const { services } = await memoryServices();
    let attempts = 0;
    const handler = proxyHandler(metadataEndpoint, async () => {
      attempts += 1;
      if (attempts === 1) throw new DependencyUnavailableError('kms', 'GetPublicKey', new Error('down'));
      return { ...services, logger: silentLogger };
    });
    const event = proxyEvent({ method: 'GET', path: '/.well-known/jwks.json' });
    expect((await handler(event)).statusCode).toBe(503);
    expect((await handler(event)).statusCode).toBe(200);
  });
});
