import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jsonLogger } from '../logging.ts';
import type { Services } from '../oauth/services.ts';
import { errorResponse } from './respond.ts';

export type Endpoint = (event: APIGatewayProxyEvent, services: Services) => Promise<APIGatewayProxyResult>;
export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * Turns an endpoint into an API Gateway REST proxy handler. The services are built once (per
 * cold start in Lambda, once per server locally); nothing escapes as an exception.
 */
export function proxyHandler(endpoint: Endpoint, services: () => Promise<Services>): ProxyHandler {
  let ready: Promise<Services> | undefined;
  return async (event) => {
    let resolved: Services | undefined;
    try {
      ready ??= services();
      resolved = await ready;
      return await endpoint(event, resolved);
    } catch (error) {
      if (!resolved) ready = undefined; // a failed cold start is retried by the next request
      return errorResponse(
        error,
        resolved?.logger ?? jsonLogger(),
        event.requestContext?.requestId ?? 'unknown',
      );
    }
  };
}
