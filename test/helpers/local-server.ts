import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { type Logger, silentLogger } from '../../functions/logging.ts';
import type { Clock } from '../../functions/oauth/ports.ts';
import { testConfig } from './config.ts';

export interface TestServer extends LocalServer {
  readonly dataDir: string;
  readonly configPath: string;
  /** POST a form-encoded token request like a mobile app does. */
  token(params: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

/** A local server on a free port with its own temporary data dir and config file. */
export async function startTestServer(
  options: { config?: TenantConfigInput; logger?: Logger; clock?: Clock } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'passgate-test-'));
  const configPath = join(dataDir, 'passgate.config.json');
  writeFileSync(configPath, JSON.stringify(options.config ?? testConfig()));
  const server = await startLocalServer({
    port: 0,
    configPath,
    dataDir,
    logger: options.logger ?? silentLogger,
    clock: options.clock,
  });
  return {
    ...server,
    dataDir,
    configPath,
    token: (params, headers = {}) =>
      fetch(`${server.issuer}oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(params),
      }),
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
