import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { RequestInfo, Services } from '../oauth/services.ts';
import { header } from './headers.ts';

/**
 * The issuer is fixed where it is configured (local mode, custom domain); otherwise it is the
 * stage URL API Gateway reports, so a function never needs its own API's URL at deploy time.
 */
export function issuerFor(event: APIGatewayProxyEvent, services: Services): string {
  if (services.issuer) return services.issuer;
  const { domainName, stage } = event.requestContext;
  return `https://${domainName}/${stage}/`;
}

export function requestInfo(event: APIGatewayProxyEvent, services: Services): RequestInfo {
  return {
    issuer: issuerFor(event, services),
    requestId: event.requestContext.requestId,
    sourceIp: event.requestContext.identity.sourceIp,
    userAgent: header(event, 'user-agent'),
    forwardedFor: header(event, 'auth0-forwarded-for'),
  };
}
