/**
 * `npm run bench:refresh`: the time one refresh_token grant takes through the local server (HTTP,
 * client authentication, three strongly consistent reads, RS256 signing, two conditional writes),
 * measured over sequential refreshes of one session, each with the token the previous one returned.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createUser } from '../functions/admin/user-admin.ts';
import { localAdminServices } from '../functions/local/local-services.ts';
import { startLocalServer } from '../functions/local/server.ts';
import { silentLogger } from '../functions/logging.ts';
import { testConfig } from '../test/helpers/config.ts';

const WARM_UP = 5;
const RUNS = Number(process.env.RUNS ?? 50);
const PASSWORD = 'correct horse battery staple';

const dataDir = mkdtempSync(join(tmpdir(), 'passgate-bench-'));
const configPath = join(dataDir, 'passgate.config.json');
writeFileSync(configPath, JSON.stringify(testConfig()));
const server = await startLocalServer({ port: 0, configPath, dataDir, logger: silentLogger });
try {
  await createUser(localAdminServices({ configPath, dataDir, store: server.store }), {
    realm: 'customers',
    username: 'alice',
    password: PASSWORD,
  });
  const post = async (params: Record<string, string>) => {
    const response = await fetch(`${server.issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'mobile-app', ...params }),
    });
    const body = (await response.json()) as { refresh_token?: string };
    if (response.status !== 200 || !body.refresh_token)
      throw new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`);
    return body.refresh_token;
  };
  let token = await post({
    grant_type: 'password',
    username: 'alice',
    password: PASSWORD,
    scope: 'openid offline_access read:orders',
  });
  const times: number[] = [];
  for (let i = 0; i < WARM_UP + RUNS; i++) {
    const start = performance.now();
    token = await post({ grant_type: 'refresh_token', refresh_token: token });
    if (i >= WARM_UP) times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    (times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(2);
  const median =
    ((times[Math.floor((RUNS - 1) / 2)] as number) + (times[Math.ceil((RUNS - 1) / 2)] as number)) / 2;
  process.stdout.write(
    `refresh_token grant through the local server, ${RUNS} sequential refreshes (after ${WARM_UP} warm-up):\n` +
      `  median ${median.toFixed(2)} ms   p90 ${at(0.9)} ms   min ${at(0)} ms   max ${at(1)} ms\n`,
  );
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
