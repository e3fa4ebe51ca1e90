import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jsonLogger } from '../logging.ts';
import { DependencyUnavailableError } from '../oauth/errors.ts';
import type { Services } from '../oauth/services.ts';
import { type CorsPolicy, OriginNotAllowed, preflightResponse, withCorsHeaders } from './cors.ts';
import { errorPage } from './hosted-page.ts';
import { errorResponse } from './respond.ts';

/**
 * An endpoint, how it answers browsers on other origins (`none` unless it says so), and whether
 * it answers people (`page`: a hosted page, whose errors are pages too) rather than apps (JSON).
 */
export type Endpoint = ((
  event: APIGatewayProxyEvent,
  services: Services,
) => Promise<APIGatewayProxyResult>) & {
  readonly cors?: CorsPolicy;
  readonly page?: true;
};

/** Declares an endpoint that browsers may call from other origins. */
export const browserEndpoint = (
  cors: Exclude<CorsPolicy, 'none'>,
  endpoint: (event: APIGatewayProxyEvent, services: Services) => Promise<APIGatewayProxyResult>,
): Endpoint => Object.assign(endpoint, { cors });
/** Declares an endpoint that people open in a browser, from a mail's link: it answers with pages. */
export const pageEndpoint = (
  endpoint: (event: APIGatewayProxyEvent, services: Services) => Promise<APIGatewayProxyResult>,
): Endpoint => Object.assign(endpoint, { page: true as const });

/** What the handler reads of Lambda's context: the time left before the function is stopped. */
export interface InvocationDeadline {
  getRemainingTimeInMillis(): number;
}
export type ProxyHandler = (
  event: APIGatewayProxyEvent,
  context?: InvocationDeadline,
) => Promise<APIGatewayProxyResult>;

/**
 * A request still waiting on its dependencies this long before Lambda's timeout answers 503
 * itself: stopped by Lambda, it would leave API Gateway to answer a bare 502 instead.
 */
export const DEADLINE_MARGIN_MS = 1000;

/**
 * Starts building the services at once, during Lambda's init phase, and hands that build to the
 * first request: the cold start's first SDK calls (the counters' secret, the signing key) are then
 * in flight while the runtime fetches the first event, instead of after it. A build that fails at
 * init is tried once more at once, so that a blip then costs the first request time, not a 503;
 * later calls (after a failed first request) build anew.
 */
export function startedAtInit(services: () => Promise<Services>): () => Promise<Services> {
  let started: Promise<Services> | undefined = services().catch(() => services());
  started.catch(() => undefined); // answered by the first request
  return () => {
    const build = started ?? services();
    started = undefined;
    return build;
  };
}

/**
 * Turns an endpoint into an API Gateway REST proxy handler. The services are built once (per
 * cold start in Lambda, once per server locally); nothing escapes as an exception. CORS is
 * decided here, once, for every endpoint: `OPTIONS` is the preflight, answered before the endpoint
 * runs, and every answer, success or error, carries the endpoint's CORS headers. Each SDK call
 * gives up well inside the function's timeout (runtime/aws-services.ts), but a login makes several
 * in a row: in a brownout their sum could outlast it, so the request also races the deadline.
 */
export function proxyHandler(endpoint: Endpoint, services: () => Promise<Services>): ProxyHandler {
  let ready: Promise<Services> | undefined;
  const cors = endpoint.cors ?? 'none';
  return async (event, context) => {
    let resolved: Services | undefined;
    let timer: NodeJS.Timeout | undefined;
    const answer = (result: APIGatewayProxyResult, refused = false) =>
      withCorsHeaders(cors, resolved?.config, event, result, refused);
    try {
      ready ??= services();
      const work = (async () => {
        resolved = await ready;
        if (event.httpMethod === 'OPTIONS') return preflightResponse(cors, resolved.config, event);
        return answer(await endpoint(event, resolved));
      })();
      if (!context) return await work;
      work.catch(() => undefined); // answered by the deadline, its own failure is no one's
      const outOfTime = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new DependencyUnavailableError('deadline', 'invocation', new Error('out of time'))),
          Math.max(0, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS),
        );
      });
      return await Promise.race([work, outOfTime]);
    } catch (error) {
      if (!resolved) ready = undefined; // a failed cold start is retried by the next request
      const refused = errorResponse(
        error,
        resolved?.logger ?? jsonLogger(),
        event.requestContext?.requestId ?? 'unknown',
      );
      return answer(
        endpoint.page ? errorPage(refused, resolved?.config) : refused,
        error instanceof OriginNotAllowed,
      );
    } finally {
      clearTimeout(timer);
    }
  };
}
