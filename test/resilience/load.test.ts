import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createUser } from '../../functions/admin/user-admin.ts';
import { openLocalStore } from '../../functions/local/embedded-store.ts';
import { localAdminServices } from '../../functions/local/local-services.ts';
import { readLoginCounters } from '../../functions/oauth/protection/brute-force.ts';
import { testConfig } from '../helpers/config.ts';
import { freePort } from '../helpers/http.ts';
import { npmStart, type StartedServer, waitFor } from '../helpers/npm-start.ts';

/**
 * A bounded load run on loopback against `npm start` in its own process: mixed logins, refreshes,
 * revocations and wrong passwords from many users at once, in three phases. In the middle of the
 * second phase the server is stopped (SIGTERM: it drains) and started again; in the middle of the
 * third it is killed (SIGKILL: requests in flight are cut off) and started again, each time on the
 * same data dir and port, while the clients keep sending. It stops by itself after a fixed number
 * of sessions.
 */
/** One user per session of a phase, so the order of one user's requests is the order they were sent. */
const SESSIONS_PER_PHASE = 24;
const USERS = SESSIONS_PER_PHASE;
const CONCURRENCY = 6;
/** Sessions of a phase that finish before its restart begins. */
const RESTART_AFTER = 8;
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
let server: StartedServer | undefined;
afterAll(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer() {
  const started = npmStart({ PORT: String(port), PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath });
  await waitFor(started.output, /listening on/);
  return started;
}

/** Stops the server with `signal` and starts it again while the clients keep sending. */
async function restart(signal: 'SIGTERM' | 'SIGKILL') {
  const stopping = server as StartedServer;
  stopping.child.kill(signal);
  await stopping.exited;
  server = await startServer();
  restarts.push(signal);
}
const restarts: string[] = [];

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
let port = 0;

/** The answer, or `unknown` when the connection broke after the request went out. */
type Answer = { status: number; body: Record<string, string> } | { status: 'unknown' };

/**
 * One request as a mobile app sends it: a refused connection (the server is restarting) was never
 * served, so it is sent again; a connection cut after sending leaves the outcome unknown.
 */
async function post(path: string, params: Record<string, string>): Promise<Answer> {
  for (let tries = 0; tries < 600; tries += 1) {
    try {
      return await send(path, params);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') return { status: 'unknown' };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('the server did not come back within 30 s');
}

function send(path: string, params: Record<string, string>): Promise<Answer> {
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
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(new URLSearchParams(params).toString());
  });
}

const refreshWith = (token: string) =>
  post('/oauth/token', { grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: token });

/** A count known to lie in [min, max]: requests cut off by the crash may or may not have landed. */
class Range {
  min = 0;
  max = 0;
  add(certain: boolean) {
    this.max += 1;
    if (certain) this.min += 1;
  }
  toString() {
    return this.min === this.max ? String(this.min) : `${this.min}..${this.max}`;
  }
}
const within = (value: number, range: Range) => value >= range.min && value <= range.max;

/** What the run expects the store to hold at the end, tallied from the answers it got. */
const expected = {
  logins: new Map<string, Range>(),
  /** Wrong passwords since the user's last successful login (from 127.0.0.1). */
  consecutiveFailures: new Map<string, Range>(),
  ipFailures: new Range(),
  liveTokens: [] as string[],
  revokedTokens: [] as string[],
  /** Tokens whose last refresh or revocation was cut off: they work or are cleanly dead. */
  uncertainTokens: [] as string[],
};
const rangeOf = (map: Map<string, Range>, username: string) =>
  map.get(username) ?? (map.set(username, new Range()).get(username) as Range);
const statuses = new Map<number | 'unknown', number>();
/** Answers lost per phase: phase 1 holds the drain restart, phase 2 the crash. */
const lostByPhase = [0, 0, 0];
let phaseNow = 0;
const count = (status: number | 'unknown') => {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  if (status === 'unknown') lostByPhase[phaseNow] = (lostByPhase[phaseNow] ?? 0) + 1;
};

/** One app session: maybe a wrong password first, a login, two refreshes, sometimes a revocation. */
async function session(phase: number, index: number) {
  const username = `user${(phase * SESSIONS_PER_PHASE + index) % USERS}`;
  const failures = rangeOf(expected.consecutiveFailures, username);
  if (index % 3 === 0) {
    const wrong = await post('/oauth/token', {
      grant_type: 'password',
      client_id: 'mobile-app',
      username,
      password: 'wrong password',
    });
    count(wrong.status);
    if (wrong.status === 400 || wrong.status === 'unknown') {
      failures.add(wrong.status === 400);
      expected.ipFailures.add(wrong.status === 400);
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
  if (login.status === 'unknown') {
    // Counted before the password was checked: the crash may have come before the refund.
    rangeOf(expected.logins, username).add(false);
    failures.min = 0;
    failures.add(false);
    expected.ipFailures.add(false);
    return;
  }
  if (login.status !== 200) return;
  rangeOf(expected.logins, username).add(true);
  failures.min = 0;
  failures.max = 0;
  let token = login.body.refresh_token as string;
  for (let i = 0; i < 2; i += 1) {
    const refreshed = await refreshWith(token);
    count(refreshed.status);
    if (refreshed.status === 'unknown') {
      expected.uncertainTokens.push(token);
      return;
    }
    if (refreshed.status === 200) token = refreshed.body.refresh_token as string;
  }
  if (index % 4 === 0) {
    const revoked = await post('/oauth/revoke', { client_id: 'mobile-app', token });
    count(revoked.status);
    if (revoked.status === 200) expected.revokedTokens.push(token);
    if (revoked.status === 'unknown') expected.uncertainTokens.push(token);
  } else {
    expected.liveTokens.push(token);
  }
}

/** The phase's sessions, CONCURRENCY at a time; `restart` begins once RESTART_AFTER have finished. */
async function runPhase(phase: number, restartWith?: 'SIGTERM' | 'SIGKILL') {
  const queue = Array.from({ length: SESSIONS_PER_PHASE }, (_, i) => i);
  phaseNow = phase;
  let finished = 0;
  let restarting: Promise<void> | undefined;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        await session(phase, next);
        finished += 1;
        if (restartWith && finished === RESTART_AFTER) restarting = restart(restartWith);
      }
    }),
  );
  await restarting;
}

describe('load with restarts', () => {
  it('serves mixed traffic through a drain restart and a crash with zero 5xx and every count exact', async () => {
    port = await freePort();
    server = await startServer();
    const store = await openLocalStore(dataDir);
    const admin = localAdminServices({ configPath, dataDir, store });
    for (let i = 0; i < USERS; i += 1)
      await createUser(admin, { realm: 'customers', username: `user${i}`, password: PASSWORD });
    await store.close();

    const started = Date.now();
    await runPhase(0);
    await runPhase(1, 'SIGTERM');
    await runPhase(2, 'SIGKILL');
    const seconds = (Date.now() - started) / 1000;
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(
      `load: ${requests} requests in ${seconds.toFixed(1)} s (${(requests / seconds).toFixed(0)}/s), restarts ${restarts.join(', ')} in flight, statuses ${JSON.stringify(Object.fromEntries(statuses))}, answers lost per phase ${lostByPhase.join('/')}`,
    );

    expect(restarts).toEqual(['SIGTERM', 'SIGKILL']);
    expect([...statuses.keys()].filter((status) => status !== 'unknown' && status >= 500)).toEqual([]);
    expect(statuses.get(200)).toBeGreaterThan(0);

    // Every refresh token the clients ended with is accounted for: live ones work, revoked ones
    // don't, and one cut off mid-request either works or is dead, never answered with a 5xx.
    for (const token of expected.liveTokens) expect((await refreshWith(token)).status).toBe(200);
    for (const token of expected.revokedTokens) expect((await refreshWith(token)).status).toBe(400);
    for (const token of expected.uncertainTokens)
      expect([200, 400]).toContain((await refreshWith(token)).status);

    // logins_count and the brute-force counters are exact (within what the crash left unknown),
    // read through the running server's store after both restarts: nothing was lost.
    const reader = await openLocalStore(dataDir);
    const services = localAdminServices({ configPath, dataDir, store: reader });
    const realm = services.config.realms[0];
    if (!realm) throw new Error('no realm');
    const now = Math.floor(Date.now() / 1000);
    let ipFailures = 0;
    for (let i = 0; i < USERS; i += 1) {
      const username = `user${i}`;
      const user = await services.users.findByUsername('customers', username);
      const logins = rangeOf(expected.logins, username);
      expect(
        within(user?.logins_count ?? -1, logins),
        `${username} logins ${user?.logins_count} in ${logins}`,
      ).toBe(true);
      const counters = await readLoginCounters(services, realm, username, '127.0.0.1', now);
      const failures = rangeOf(expected.consecutiveFailures, username);
      expect(
        within(counters.state.consecutiveFailures, failures),
        `${username} failures ${counters.state.consecutiveFailures} in ${failures}`,
      ).toBe(true);
      ipFailures = counters.state.ipFailures;
    }
    expect(
      within(ipFailures, expected.ipFailures),
      `IP failures ${ipFailures} in ${expected.ipFailures}`,
    ).toBe(true);
    await reader.close();
    agent.destroy();
  }, 60_000);
});
