/** The bench's HTTP client (node:http with a keep-alive agent) and its statistics. */
import { Agent, request } from 'node:http';

export interface TokenReply {
  readonly status: number;
  readonly body: Record<string, string>;
  /** Milliseconds from sending the request to the end of the response body. */
  readonly ms: number;
}

/** A client of one server: `maxSockets` keep-alive connections, reused across requests. */
export function tokenClient(issuer: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const url = new URL('oauth/token', issuer);
  return {
    post(params: Record<string, string>): Promise<TokenReply> {
      const body = new URLSearchParams(params).toString();
      const start = performance.now();
      return new Promise((resolve, reject) => {
        const sent = request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
              'user-agent': 'passgate-bench',
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
                ms: performance.now() - start,
              }),
            );
            response.on('error', reject);
          },
        );
        sent.on('error', reject);
        sent.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Runs `task(i)` with `concurrency` in flight for `seconds`; how many completed, and in what time. */
export async function saturate(
  concurrency: number,
  seconds: number,
  task: (i: number, worker: number) => Promise<unknown>,
): Promise<{ count: number; seconds: number; rate: number }> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) await task(next++, worker);
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { count: next, seconds: elapsed, rate: next / elapsed };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (rank - low);
}

export const median = (values: readonly number[]) => percentile(values, 50);

export function expectStatus(reply: TokenReply, status: number, what: string): TokenReply {
  if (reply.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  return reply;
}
