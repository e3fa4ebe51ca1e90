import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';

/**
 * What a dependency does wrong. `reset`: the connection drops before the request is served;
 * `lost`: the request is served, then the connection drops before the answer arrives, so a
 * retried write meets its own earlier success.
 */
export type Fault = 'throttle' | 'internal' | 'reset' | 'lost' | 'hang';

export interface FaultRule {
  /** The AWS operation as in X-Amz-Target, e.g. `GetItem`, `UpdateItem`, `Sign`; SES v2's `SendEmail`. */
  readonly operation: string;
  /** 1-based: the Nth HTTP call of that operation fails (retries are calls too). */
  readonly nth: number;
  /** How many calls in a row fail from the Nth on (enough to outlast the SDK's retries). */
  readonly times?: number;
  readonly fault: Fault;
}

interface HttpRequestLike {
  headers: Record<string, string>;
  path?: string;
  hostname?: string;
  port?: number;
  protocol?: string;
}
interface RequestHandlerLike {
  handle(request: HttpRequestLike, options?: unknown): Promise<{ response: unknown }>;
}

const ERROR_TYPES: Record<string, Record<'throttle' | 'internal', string>> = {
  DynamoDB_20120810: {
    throttle: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    internal: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  },
  TrentService: { throttle: 'ThrottlingException', internal: 'KMSInternalException' },
  SESv2: { throttle: 'TooManyRequestsException', internal: 'InternalFailure' },
};

/**
 * The service and operation of a request: JSON-protocol services (DynamoDB, KMS) name them in
 * X-Amz-Target; SES v2 speaks REST-JSON, where the path says it.
 */
function operationOf(request: HttpRequestLike): [string, string] {
  const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
  if (target) return target.split('.') as [string, string];
  if (request.path === '/v2/email/outbound-emails') return ['SESv2', 'SendEmail'];
  return ['', ''];
}

/** A TCP server that accepts connections and never answers: a dependency that hangs. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Injects faults under a real AWS SDK client, at its HTTP handler: everything above it — retries,
 * timeouts, error parsing, our error translation — runs as in production. Test-only.
 */
export async function injectFaults(client: { config: { requestHandler: unknown } }, rules: FaultRule[]) {
  const handler = client.config.requestHandler as RequestHandlerLike;
  const original = handler.handle.bind(handler);
  const calls = new Map<string, number>();
  const injected: FaultRule[] = [];
  const hole = await blackHole();
  handler.handle = async (request, options) => {
    const [service, operation] = operationOf(request);
    const count = (calls.get(operation) ?? 0) + 1;
    calls.set(operation, count);
    const rule = rules.find(
      (r) => r.operation === operation && count >= r.nth && count < r.nth + (r.times ?? 1),
    );
    if (!rule) return original(request, options);
    injected.push(rule);
    switch (rule.fault) {
      case 'reset':
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      case 'lost': {
        const { response } = await original(request, options);
        (response as { body?: Readable }).body?.destroy?.();
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      case 'hang':
        return original({ ...request, hostname: '127.0.0.1', port: hole.port, protocol: 'http:' }, options);
      default: {
        const type = ERROR_TYPES[service]?.[rule.fault] ?? 'InternalFailure';
        // REST-JSON (SES v2) throttles with 429 and names the error in a header.
        const rest = service === 'SESv2';
        const status = rule.fault === 'throttle' ? (rest ? 429 : 400) : 500;
        return {
          response: {
            statusCode: status,
            reason: status === 500 ? 'Internal Server Error' : 'Bad Request',
            headers: {
              'content-type': rest ? 'application/json' : 'application/x-amz-json-1.0',
              'x-amzn-requestid': 'fault-injected',
              ...(rest ? { 'x-amzn-errortype': type } : {}),
            },
            body: Readable.from([
              Buffer.from(JSON.stringify({ __type: type, message: `injected ${rule.fault}` })),
            ]),
          },
        };
      }
    }
  };
  return {
    /** Calls seen per operation, faulty ones included. */
    calls,
    /** The rules that fired, once per failed call. */
    injected,
    async restore() {
      handler.handle = original;
      await hole.close();
    },
  };
}
