/**
 * `npm run bench:dpop`: what a DPoP proof adds to a token request, in process: the token handler
 * with memory stores, the real local RSA signer and a no-op password hasher, as bench/handler-cpu.ts
 * measures the grants. Prints the store calls per grant with and without a proof (each port call
 * is one DynamoDB request in Lambda) and the CPU per refresh grant either way. Proofs are made
 * before the clock starts: the client's signing is not the server's cost.
 */
import { parseArgs } from 'node:util';
import { proxyHandler } from '../functions/http/handler.ts';
import { jsonLogger } from '../functions/logging.ts';
import { systemClock } from '../functions/oauth/ports.ts';
import type { Services } from '../functions/oauth/services.ts';
import { endpoints } from '../functions/routes.ts';
import { dpopKey, dpopProof } from '../test/helpers/dpop.ts';
import { proxyEvent } from '../test/helpers/events.ts';
import { memoryServices, RecordingHasher } from '../test/helpers/memory-ports.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' } } });
const count = Number(values.count);
const HTU = 'https://auth.example.com/oauth/token';
const PASSWORD = 'correct horse battery staple';

/** Counts every call to the store ports; the signer and clock are not stores. */
function countingStores(services: Services, calls: Map<string, number>): Services {
  const counted = <T extends object>(port: T, name: string): T =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const key = `${name}.${String(property)}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return value.apply(target, args);
        };
      },
    });
  return {
    ...services,
    users: counted(services.users, 'users'),
    refreshTokens: counted(services.refreshTokens, 'refreshTokens'),
    attempts: counted(services.attempts, 'attempts'),
    dpopProofs: counted(services.dpopProofs, 'dpopProofs'),
  };
}

const { services: base, users } = await memoryServices({
  hasher: new RecordingHasher(),
  clock: systemClock,
  logger: jsonLogger(() => {}),
});
await users.create({
  realm: 'customers',
  user_id: 'bench',
  session_epoch: 0,
  username: 'bench',
  username_key: 'bench',
  email_verified: false,
  blocked: false,
  created_at: new Date().toISOString(),
  password_hash: `plain:${PASSWORD}`,
  permissions: {},
});
const calls = new Map<string, number>();
const services = countingStores(base, calls);
const handler = proxyHandler(endpoints.token, async () => services);
const key = await dpopKey('ES256');
const proof = () => dpopProof(key, { htm: 'POST', htu: HTU });

async function token(params: Record<string, string>, dpop?: string) {
  const response = await handler(
    proxyEvent({
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(dpop === undefined ? {} : { DPoP: dpop }),
      },
      body: new URLSearchParams({ client_id: 'mobile-app', ...params }).toString(),
    }),
  );
  if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
  return JSON.parse(response.body) as { refresh_token: string };
}
const login = (dpop?: string) =>
  token(
    { grant_type: 'password', username: 'bench', password: PASSWORD, scope: 'offline_access read:orders' },
    dpop,
  );

async function storeCalls(run: () => Promise<unknown>): Promise<number> {
  calls.clear();
  await run();
  return [...calls.values()].reduce((sum, n) => sum + n, 0);
}

/** CPU ms per refresh grant over `count` rotations of one family, proofs made beforehand. */
async function refreshCpu(withProof: boolean): Promise<number> {
  let refreshToken = (await login(withProof ? await proof() : undefined)).refresh_token;
  const proofs = withProof ? await Promise.all(Array.from({ length: count }, proof)) : [];
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    refreshToken = (await token({ grant_type: 'refresh_token', refresh_token: refreshToken }, proofs[i]))
      .refresh_token;
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}

const loginPlain = await storeCalls(() => login());
const loginDpop = await storeCalls(async () => login(await proof()));
const plainToken = (await login()).refresh_token;
const boundToken = (await login(await proof())).refresh_token;
const refreshPlain = await storeCalls(() =>
  token({ grant_type: 'refresh_token', refresh_token: plainToken }),
);
const refreshDpopProof = await proof();
const refreshDpop = await storeCalls(() =>
  token({ grant_type: 'refresh_token', refresh_token: boundToken }, refreshDpopProof),
);
await refreshCpu(false); // warm-up
await refreshCpu(true);
const cpuPlain = await refreshCpu(false);
const cpuDpop = await refreshCpu(true);

console.log(`store calls per password grant: ${loginPlain} without DPoP, ${loginDpop} with`);
console.log(`store calls per refresh grant:  ${refreshPlain} without DPoP, ${refreshDpop} with`);
console.log(
  `CPU per refresh grant (ES256 proof): ${cpuPlain.toFixed(3)} ms without, ${cpuDpop.toFixed(3)} ms with (+${(cpuDpop - cpuPlain).toFixed(3)} ms), ${count} rotations each`,
);
