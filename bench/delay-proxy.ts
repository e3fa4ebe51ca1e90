/**
 * A loopback HTTP proxy in front of one AWS-compatible endpoint (dynalite, the KMS and Secrets
 * Manager doubles) that waits a fixed delay before forwarding each request and counts requests by
 * operation (`X-Amz-Target`). It stands where the network and the service's own latency stand in
 * AWS, for a process the bench cannot inject an SDK middleware into: the built Lambda bundle. Every
 * call the function makes is delayed the same, so the time a grant gains at a delay, divided by the
 * delay, is the number of calls it makes one after another.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedCall {
  readonly operation: string;
  readonly startMs: number;
  endMs: number;
  /** Items the request reads or writes: the keys of a BatchGetItem, the actions of a transaction, else 1. */
  items: number;
}

/** What DynamoDB bills a batch or a transaction by: its items (https://aws.amazon.com/dynamodb/pricing/on-demand/). */
function itemsOf(operation: string, body: Buffer): number {
  if (!operation.endsWith('.BatchGetItem') && !operation.endsWith('.TransactWriteItems')) return 1;
  const request = JSON.parse(body.toString('utf8')) as {
    RequestItems?: Record<string, { Keys: unknown[] }>;
    TransactItems?: unknown[];
  };
  return (
    request.TransactItems?.length ??
    Object.values(request.RequestItems ?? {}).reduce((sum, table) => sum + table.Keys.length, 0)
  );
}

export interface DelayProxy {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly endpoint: string;
  /** Milliseconds added to every request from now on. */
  delayMs: number;
  /**
   * Every request so far: its operation (`DynamoDB_20120810.GetItem`, `TrentService.Sign`), when it
   * arrived and when its answer was sent (performance.now() of this process).
   */
  readonly calls: ProxiedCall[];
  close(): Promise<void>;
}

export async function startDelayProxy(target: string): Promise<DelayProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const calls: ProxiedCall[] = [];
  const proxy: { delayMs: number } = { delayMs: 0 };
  const server = createServer((incoming, outgoing) => {
    const operation = String(incoming.headers['x-amz-target'] ?? `${incoming.method} ${incoming.url}`);
    const call: ProxiedCall = { operation, startMs: performance.now(), endMs: Number.NaN, items: 1 };
    calls.push(call);
    outgoing.on('finish', () => {
      call.endMs = performance.now();
    });
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      call.items = itemsOf(operation, Buffer.concat(chunks));
      const forward = () => {
        const forwarded = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: incoming.method,
            path: incoming.url,
            // The engines check that requests name them (dynalite's guard against browsers); none
            // of them checks signatures, so the signed Host may change.
            headers: { ...incoming.headers, host: upstream.host },
            agent,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forwarded.on('error', (error) => outgoing.destroy(error));
        forwarded.end(Buffer.concat(chunks));
      };
      // No timer at all without a delay: even setTimeout(0) would add a millisecond per call.
      if (proxy.delayMs > 0) setTimeout(forward, proxy.delayMs);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
