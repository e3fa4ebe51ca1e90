import { EventEmitter } from 'node:events';
import type { RequestListener } from 'node:http';
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';

/**
 * An AWS SDK request handler that gives each request to dynalite's request listener in this same
 * process: the same request, the same engine and the same response, without a loopback socket and
 * two HTTP stacks (client and server) in between, which cost about 40 % of every store call of
 * the local server (npm run bench). Other processes (the CLI while the server runs) still reach
 * the engine over HTTP.
 *
 * dynalite reads `headers`, `method`, `url` and the body events of its request, and answers with
 * `statusCode`, `setHeader` and `end`; that is all this hands it.
 */
export function inProcessRequestHandler(
  listener: RequestListener,
): RequestHandler<HttpRequest, HttpResponse> {
  return {
    handle: (request) =>
      new Promise((resolve) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
        const incoming = Object.assign(new EventEmitter(), {
          headers,
          method: request.method,
          url: request.path,
        });
        const responseHeaders: Record<string, string> = {};
        const outgoing = {
          statusCode: 200,
          setHeader(name: string, value: string | number) {
            responseHeaders[name.toLowerCase()] = String(value);
          },
          end(body?: string) {
            resolve({
              response: {
                statusCode: outgoing.statusCode,
                headers: responseHeaders,
                body: Readable.from([Buffer.from(body ?? '', 'utf8')]),
              },
            });
          },
        };
        listener(incoming as never, outgoing as never);
        // As from a socket: the body arrives after the listener has subscribed to it.
        process.nextTick(() => {
          const body = request.body as string | Uint8Array | undefined;
          // The SDK's JSON body is a Uint8Array subclass: viewed as bytes, never converted as a string.
          const bytes =
            typeof body === 'string'
              ? Buffer.from(body, 'utf8')
              : body && Buffer.from(body.buffer, body.byteOffset, body.byteLength);
          if (bytes && bytes.length > 0) incoming.emit('data', bytes);
          incoming.emit('end');
        });
      }),
  };
}
