import { randomUUID } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ConfigError } from '../config/config-file.ts';
import { defaults } from '../config/defaults.ts';
import { loadConfigFile } from '../config/load.ts';
import type { TenantConfig } from '../config/schema.ts';
import { gatewayErrorCorsHeaders } from '../http/cors.ts';
import { type ProxyHandler, proxyHandler } from '../http/handler.ts';
import { jsonResponse, noStoreJson } from '../http/respond.ts';
import { jsonLogger, type Logger } from '../logging.ts';
import type { Clock } from '../oauth/ports.ts';
import type { Services } from '../oauth/services.ts';
import { endpoints, routes } from '../routes.ts';
import { type LocalStore, startEmbeddedStore } from './embedded-store.ts';
import { localServices } from './local-services.ts';

export interface LocalServerOptions {
  readonly port: number;
  readonly configPath: string;
  readonly dataDir: string;
  readonly logger?: Logger;
  /** Defaults to the system clock; tests pass a fixed one to reach token expiry without waiting. */
  readonly clock?: Clock;
  /** Serve HTTPS with this key and certificate (PEM); the issuer is then `https://localhost:<port>/`. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface LocalServer {
  /** `http://localhost:<port>/`, with the trailing slash (docs/reference.md, "The issuer"). */
  readonly issuer: string;
  readonly port: number;
  readonly store: LocalStore;
  close(): Promise<void>;
}

/** API Gateway takes the sender's IP from the connection; IPv4-mapped IPv6 is shown as IPv4. */
const sourceIpOf = (request: IncomingMessage) => (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

/** Reads the body until it ends or `limit` bytes have come, whichever is first. */
function readBodyPrefix(
  request: IncomingMessage,
  limit: number,
): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        request.off('data', onData);
        request.pause();
        resolve({ chunks, size });
      }
    };
    request.on('data', onData);
    request.once('end', () => resolve({ chunks, size }));
    request.once('error', reject);
  });
}

/**
 * node:http → the API Gateway REST proxy event the Lambda functions receive. The body is read up to
 * one byte past the limit: the handler answers 413 itself, as it does in Lambda.
 */
async function toProxyEvent(
  request: IncomingMessage,
  url: URL,
  resource: string,
): Promise<{ event: APIGatewayProxyEvent; truncated: boolean }> {
  const { chunks, size } = await readBodyPrefix(request, defaults.maxBodyBytes + 1);
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    const value = request.rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query = [...url.searchParams];
  const requestId = randomUUID();
  const event = {
    resource,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: query.length > 0 ? Object.fromEntries(query) : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      requestId,
      stage: 'local',
      domainName: headers.host ?? headers.Host ?? 'localhost',
      httpMethod: request.method ?? 'GET',
      path: url.pathname,
      resourcePath: resource,
      identity: { sourceIp: sourceIpOf(request), userAgent: request.headers['user-agent'] ?? null },
    },
  } as unknown as APIGatewayProxyEvent;
  return { event, truncated: size > defaults.maxBodyBytes };
}

/** Longest wait for requests in flight at close: a login is ~30 ms, a stuck one is not waited for. */
const DRAIN_MS = 5_000;

function send(response: ServerResponse, result: Awaited<ReturnType<ProxyHandler>>, close: boolean) {
  response.writeHead(result.statusCode, {
    ...(result.headers as Record<string, string>),
    ...(close ? { Connection: 'close' } : {}),
  });
  response.end(result.body);
}

/**
 * The local authorization server: the same endpoints and handlers as the Lambda functions,
 * behind node:http on 127.0.0.1, with the embedded store and a local signing key.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const logger = options.logger ?? jsonLogger();
  loadConfigFile(options.configPath); // refuse to start on a bad config before anything is opened
  const store = await startEmbeddedStore(options.dataDir);
  const server = options.tls ? createTlsServer(options.tls) : createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const issuer = `${options.tls ? 'https' : 'http'}://localhost:${port}/`;
  // The handlers keep the services they first get: an edited config reaches them through a getter,
  // on the object itself, so that what reads the config from it (the outbox's sender) sees it too.
  let reloaded: TenantConfig | undefined;
  const services = localServices({ ...options, store, logger, issuer }).then((built): Services => {
    const initial = built.config;
    return Object.defineProperty(built, 'config', { get: () => reloaded ?? initial });
  });
  const stopReloading = reloadingConfig(options.configPath, logger, (config) => {
    reloaded = config;
  });
  const handlers = new Map(
    routes.map((route) => [
      `${route.method} /${route.path}`,
      { resource: `/${route.path}`, handler: proxyHandler(endpoints[route.endpoint], () => services) },
    ]),
  );
  const knownPaths = new Set(routes.map((route) => `/${route.path}`));

  const inFlight = new Set<ServerResponse>();
  let drained: (() => void) | undefined;
  server.on('request', async (request, response) => {
    inFlight.add(response);
    response.once('close', () => {
      inFlight.delete(response);
      if (inFlight.size === 0) drained?.();
    });
    const url = URL.canParse(request.url ?? '/', issuer) ? new URL(request.url ?? '/', issuer) : undefined;
    if (!url) {
      // An absolute-form target Node's parser let through but URL cannot read (RFC 9112 §3.2.2).
      send(
        response,
        jsonResponse(400, { error: 'invalid_request', error_description: 'Malformed request target.' }),
        false,
      );
      request.resume();
      return;
    }
    const route = handlers.get(`${request.method} ${url.pathname}`);
    if (!route) {
      const known = knownPaths.has(url.pathname);
      // API Gateway's own answer to a missing route carries the same CORS headers (token-api.ts).
      const cors = gatewayErrorCorsHeaders({ headers: request.headers as Record<string, string> });
      send(
        response,
        noStoreJson(
          known ? 405 : 404,
          {
            error: 'invalid_request',
            error_description: known ? 'Method not allowed.' : 'Unknown endpoint.',
          },
          cors,
        ),
        false,
      );
      request.resume();
      return;
    }
    try {
      const { event, truncated } = await toProxyEvent(request, url, route.resource);
      // The rest of an oversized body is never read: answer, then drop the connection.
      send(response, await route.handler(event), truncated);
      if (truncated) request.destroy();
    } catch (error) {
      logger.log('error', 'local server failed to serve a request', { message: (error as Error).message });
      if (!response.headersSent) send(response, jsonResponse(500, { error: 'server_error' }), true);
    }
  });

  return {
    issuer,
    port,
    store,
    /**
     * Stops taking connections and lets the requests in flight finish (up to DRAIN_MS), so a
     * restart loses no answer: each request either completes or is never accepted.
     */
    async close() {
      stopReloading();
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, DRAIN_MS).unref();
        });
      }
      server.closeAllConnections();
      await closed;
      await store.close();
    },
  };
}

/** How often the config file is looked at: an edit is serving before the developer's next request. */
const CONFIG_POLL_MS = 250;

/**
 * A dev server picks up an edited config: a valid file is applied (and logged); an invalid one is
 * refused with its problems, and the config that was serving goes on serving. Polling the file's
 * stat, not fs.watch: editors that save by writing a new file and renaming it end an fs.watch.
 */
function reloadingConfig(
  configPath: string,
  logger: Logger,
  apply: (config: TenantConfig) => void,
): () => void {
  const onChange = (current: { mtimeMs: number; size: number; ino: number }, previous: typeof current) => {
    const changed =
      current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino;
    if (!changed) return;
    try {
      apply(loadConfigFile(configPath));
      logger.log('info', 'config reloaded', { config: configPath });
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
      logger.log('error', 'config refused, the previous config goes on serving', {
        config: configPath,
        problems,
      });
    }
  };
  watchFile(configPath, { interval: CONFIG_POLL_MS, persistent: false }, onChange);
  return () => unwatchFile(configPath, onChange);
}
