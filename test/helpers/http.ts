import { request } from 'node:http';
import { createServer } from 'node:net';

/** A response body as JSON, typed loosely: tests assert its exact shape themselves. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions inspect arbitrary JSON
export const json = (response: Response): Promise<any> => response.json();

/**
 * POSTs a form from a chosen loopback source address (127.0.0.0/8 is all local on Linux), so a
 * test can be "another IP" against the local server.
 */
export function postFormFrom(
  localAddress: string,
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: see json()
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            // JSON answers parsed; others (Auth0's plain-text reset answer) as text.
            body:
              text && String(res.headers['content-type']).startsWith('application/json')
                ? JSON.parse(text)
                : text || undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(new URLSearchParams(params).toString());
  });
}

/** A port that was free a moment ago, for a server whose URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
