import type { RequestListener } from 'node:http';

/** See transactions.mjs. */
export declare function withTransactions(dynalite: RequestListener): RequestListener;
export declare function askEngine(
  listener: RequestListener,
  request: { method: string; path: string; headers: Record<string, string>; body: string },
): Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;
