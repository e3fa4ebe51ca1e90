/**
 * The browser example's own server, on its own origin: the static page, its settings, and a tiny
 * API that accepts passgate's DPoP-bound access tokens the way any resource server can, with
 * `passgate/dpop`: the token against the issuer's JWKS (issuer, audience, `typ`), the proof that
 * comes with it, and that the proof's key is the one the token is bound to (RFC 9449 §7.1).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRemoteJWKSet } from 'jose';
import { DpopRequestError, memoryReplayStore, verifyDpopRequest } from 'passgate/dpop';

export interface ExampleSettings {
  /** passgate's issuer, with the trailing slash. */
  readonly issuer: string;
  /** A public client whose `allowedOrigins` lists this server's origin. */
  readonly clientId: string;
  /** The API identifier the page asks tokens for, and the one its API accepts. */
  readonly audience: string;
  readonly scope: string;
}

export interface ExampleServer {
  /** `http://localhost:<port>/` */
  readonly url: string;
  close(): Promise<void>;
}

const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export async function startExampleServer(port: number, settings: ExampleSettings): Promise<ExampleServer> {
  const dpop = {
    jwks: createRemoteJWKSet(new URL('.well-known/jwks.json', settings.issuer)),
    issuer: settings.issuer,
    audience: settings.audience,
    replay: memoryReplayStore(), // one process; several instances would share a store
  };
  // The page runs only its own script and talks only to itself and the issuer: an injected
  // script has far less to work with (docs/browser-apps.md, on XSS and refresh tokens).
  const contentSecurityPolicy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${new URL(settings.issuer).origin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  const server: Server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, {
        'Content-Type': type,
        'Content-Security-Policy': contentSecurityPolicy,
        'Cache-Control': 'no-store',
      });
      response.end(body);
    };
    const file = STATIC[path];
    if (request.method === 'GET' && file) {
      return send(200, file.type, readFileSync(join(import.meta.dirname, file.file), 'utf8'));
    }
    if (request.method === 'GET' && path === '/settings.json') {
      return send(200, 'application/json', JSON.stringify(settings));
    }
    if (request.method === 'GET' && path === '/api/orders') {
      try {
        const { payload } = await verifyDpopRequest(
          {
            method: request.method,
            // The URL the page called, from this server's own origin rather than the Host header:
            // a proof made for another server must not pass here by a rewritten Host.
            url: new URL(request.url ?? '/', ownOrigin()).href,
            authorization: request.headers.authorization,
            dpop: request.headers.dpop,
          },
          dpop,
        );
        return send(
          200,
          'application/json',
          JSON.stringify({
            message: `Hello ${payload.sub}`,
            scope: payload.scope,
            orders: ['#1001', '#1002'],
          }),
        );
      } catch (error) {
        if (!(error instanceof DpopRequestError)) {
          return send(500, 'application/json', JSON.stringify({ error: 'server_error' }));
        }
        // RFC 9449 §7.1: the challenge names the DPoP scheme, its algorithms and the error.
        response.setHeader('WWW-Authenticate', error.wwwAuthenticate);
        return send(
          error.status,
          'application/json',
          JSON.stringify({ error: error.error, reason: error.reason }),
        );
      }
    }
    send(404, 'text/plain; charset=utf-8', 'Not found');
  });
  const ownOrigin = () => `http://localhost:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `${ownOrigin()}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
