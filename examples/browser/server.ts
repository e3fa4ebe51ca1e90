/**
 * The browser example's own server, on its own origin: the static page, its settings, and a tiny
 * API that accepts passgate access tokens by verifying them against the issuer's JWKS, as any
 * resource server does (jose's createRemoteJWKSet + jwtVerify, issuer and audience checked).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';

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
  const jwks = createRemoteJWKSet(new URL('.well-known/jwks.json', settings.issuer));
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
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      try {
        const { payload } = await jwtVerify(token ?? '', jwks, {
          issuer: settings.issuer,
          audience: settings.audience,
          typ: 'at+jwt', // RFC 9068 §4: refuse ID tokens and anything else presented as an access token
        });
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
        return send(
          401,
          'application/json',
          JSON.stringify({ error: 'invalid_token', reason: (error as Error).message }),
        );
      }
    }
    send(404, 'text/plain; charset=utf-8', 'Not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
