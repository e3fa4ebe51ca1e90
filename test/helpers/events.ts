import type { APIGatewayProxyEvent } from 'aws-lambda';

/** A REST API proxy event as API Gateway sends it for the `prod` stage of a deployed passgate. */
export function proxyEvent(overrides: {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | null;
  isBase64Encoded?: boolean;
  sourceIp?: string;
}): APIGatewayProxyEvent {
  const path = overrides.path ?? '/oauth/token';
  return {
    resource: path,
    path,
    httpMethod: overrides.method ?? 'POST',
    headers: overrides.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: overrides.body ?? null,
    isBase64Encoded: overrides.isBase64Encoded ?? false,
    requestContext: {
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      stage: 'prod',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      identity: { sourceIp: overrides.sourceIp ?? '198.51.100.7', userAgent: 'okhttp/4.12.0' },
    },
  } as unknown as APIGatewayProxyEvent;
}
