import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createUser } from '../../functions/admin/user-admin.ts';
import { localAdminServices } from '../../functions/local/local-services.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { silentLogger } from '../../functions/logging.ts';
import { readLoginCounters } from '../../functions/oauth/brute-force.ts';
import { testConfig } from '../helpers/config.ts';

/**
 * A bounded load run on loopback: mixed logins, refreshes, revocations and wrong passwords from
 * many users at once, in three phases with a server restart between them (same data dir, same
 * port). It stops by itself after a fixed number of requests.
 */
/** One user per session of a phase, so the order of one user's requests is the order they were sent. */
const SESSIONS_PER_PHASE = 24;
const USERS = SESSIONS_PER_PHASE;
const PHASES = 3;
const CONCURRENCY = 6;
const PASSWORD = 'correct horse battery staple';

const dataDir = mkdtempSync(join(tmpdir(), 'passgate-load-'));
const configPath = join(dataDir, 'passgate.config.json');
// Limits high enough that the run's own wrong passwords never block it: the counts are checked instead.
writeFileSync(
  configPath,
  JSON.stringify(
    testConfig({
      realms: [
        { name: 'customers', bruteForce: { maxConsecutiveFailures: 1000, blockSeconds: 3600 } },
        { name: 'employees' },
      ],
      ipThrottling: { maxFailuresPerDay: 1_000_000, allowlist: [] },
    }),
  ),
);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
let port = 0;

function post(
  path: string,
  params: Record<string, string>,
): Promise<{ status: number; body: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(new URLSearchParams(params).toString());
  });
}

const refreshWith = (token: string) =>
  post('/oauth/token', { grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: token });

/** What the run expects the store to hold at the end, tallied from the answers it got. */
const expected = {
  logins: new Map<string, number>(),
  /** Wrong passwords since the user's last successful login (from 127.0.0.1). */
  consecutiveFailures: new Map<string, number>(),
  ipFailures: 0,
  liveTokens: [] as string[],
  revokedTokens: [] as string[],
};
const statuses = new Map<number, number>();
const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

/** One app session: maybe a wrong password first, a login, two refreshes, sometimes a revocation. */
async function session(phase: number, index: number) {
  const username = `user${(phase * SESSIONS_PER_PHASE + index) % USERS}`;
  if (index % 3 === 0) {
    const wrong = await post('/oauth/token', {
      grant_type: 'password',
      client_id: 'mobile-app',
      username,
      password: 'wrong password',
    });
    count(wrong.status);
    if (wrong.status === 400) {
      expected.consecutiveFailures.set(username, (expected.consecutiveFailures.get(username) ?? 0) + 1);
      expected.ipFailures += 1;
    }
  }
  const login = await post('/oauth/token', {
    grant_type: 'password',
    client_id: 'mobile-app',
    username,
    password: PASSWORD,
    scope: 'offline_access read:orders',
  });
  count(login.status);
  if (login.status !== 200) return;
  expected.logins.set(username, (expected.logins.get(username) ?? 0) + 1);
  expected.consecutiveFailures.set(username, 0);
  let token = login.body.refresh_token as string;
  for (let i = 0; i < 2; i += 1) {
    const refreshed = await refreshWith(token);
    count(refreshed.status);
    if (refreshed.status === 200) token = refreshed.body.refresh_token as string;
  }
  if (index % 4 === 0) {
    const revoked = await post('/oauth/revoke', { client_id: 'mobile-app', token });
    count(revoked.status);
    if (revoked.status === 200) expected.revokedTokens.push(token);
  } else {
    expected.liveTokens.push(token);
  }
}

async function runPhase(phase: number) {
  const queue = Array.from({ length: SESSIONS_PER_PHASE }, (_, i) => i);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await session(phase, next);
    }),
  );
}

describe('load with restarts', () => {
  it('serves mixed traffic across restarts with zero 5xx and every count exact', async () => {
    let server: LocalServer = await startLocalServer({ port: 0, configPath, dataDir, logger: silentLogger });
    port = server.port;
    const admin = () => localAdminServices({ configPath, dataDir, store: server.store });
    for (let i = 0; i < USERS; i += 1)
      await createUser(admin(), { realm: 'customers', username: `user${i}`, password: PASSWORD });

    const started = Date.now();
    for (let phase = 0; phase < PHASES; phase += 1) {
      if (phase > 0) {
        // Restart on the same data dir and port: what a deploy or a crash-and-restart does.
        agent.destroy();
        await server.close();
        server = await startLocalServer({ port, configPath, dataDir, logger: silentLogger });
      }
      await runPhase(phase);
    }
    const seconds = (Date.now() - started) / 1000;
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(
      `load: ${requests} requests in ${seconds.toFixed(1)} s (${(requests / seconds).toFixed(0)}/s), ${PHASES - 1} restarts, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );

    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    expect(statuses.get(200)).toBeGreaterThan(0);

    // Every refresh token the clients ended with is accounted for: live ones work, revoked ones don't.
    for (const token of expected.liveTokens) expect((await refreshWith(token)).status).toBe(200);
    for (const token of expected.revokedTokens) expect((await refreshWith(token)).status).toBe(400);

    // logins_count and the brute-force counters are exact, after two restarts.
    const services = admin();
    const realm = services.config.realms[0];
    if (!realm) throw new Error('no realm');
    const now = Math.floor(Date.now() / 1000);
    let ipFailures = 0;
    for (let i = 0; i < USERS; i += 1) {
      const username = `user${i}`;
      const user = await services.users.findByUsername('customers', username);
      expect(user?.logins_count, username).toBe(expected.logins.get(username) ?? 0);
      const counters = await readLoginCounters(services, realm, username, '127.0.0.1', now);
      expect(counters.userIpFailures, username).toBe(expected.consecutiveFailures.get(username) ?? 0);
      ipFailures = counters.ipFailures;
    }
    expect(ipFailures).toBe(expected.ipFailures);
    agent.destroy();
    await server.close();
  }, 60_000);
});
