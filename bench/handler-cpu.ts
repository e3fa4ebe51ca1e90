/**
 * CPU per request of the token handler in-process: API Gateway events through
 * `proxyHandler(endpoints.token, …)`, the store ports answered from memory, the real local RSA
 * signer, the JSON logger serialising every audit line (then dropping it). The password grant uses
 * a no-op hasher, so what it measures is everything a login costs besides argon2id.
 */
import { proxyHandler } from '../functions/http/handler.ts';
import { jsonLogger } from '../functions/logging.ts';
import { systemClock } from '../functions/oauth/ports.ts';
import { endpoints } from '../functions/routes.ts';
import { proxyEvent } from '../test/helpers/events.ts';
import { memoryServices, RecordingHasher } from '../test/helpers/memory-ports.ts';

export interface HandlerCpu {
  /** CPU ms per request (user + system) of the password grant with a no-op hasher. */
  readonly passwordMs: number;
  /** CPU ms per refresh grant, access token only (scope `offline_access read:orders`). */
  readonly refreshMs: number;
  /** CPU ms per refresh grant that also mints an ID token (scope `openid offline_access …`). */
  readonly refreshOpenidMs: number;
  /** CPU ms of one RS256 signature by the local signer, for reference. */
  readonly signMs: number;
}

const tokenEvent = (params: Record<string, string>) =>
  proxyEvent({
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'okhttp/4.12.0' },
    body: new URLSearchParams({ client_id: 'mobile-app', ...params }).toString(),
  });

/** CPU per call of `run(i)` over `count` sequential calls, after `count / 10` warm-up calls. */
async function cpuPerCall(count: number, run: (i: number) => Promise<void>): Promise<number> {
  const warmUp = Math.max(20, Math.floor(count / 10));
  for (let i = 0; i < warmUp; i++) await run(i);
  const before = process.cpuUsage();
  for (let i = warmUp; i < warmUp + count; i++) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}

export async function measureHandlerCpu(count: number): Promise<HandlerCpu> {
  const { services, users, signer } = await memoryServices({
    hasher: new RecordingHasher(),
    clock: systemClock,
    logger: jsonLogger(() => {}),
  });
  const handler = proxyHandler(endpoints.token, async () => services);
  const userCount = count + Math.max(20, Math.floor(count / 10));
  for (let i = 0; i < userCount; i++) {
    await users.create({
      realm: 'customers',
      user_id: `user${i}`,
      session_epoch: 0,
      username: `user-${i}`,
      username_key: `user-${i}`,
      email_verified: false,
      blocked: false,
      created_at: new Date().toISOString(),
      password_hash: 'plain:correct horse battery staple',
      permissions: {},
    });
  }
  const call = async (params: Record<string, string>) => {
    const response = await handler(tokenEvent(params));
    if (response.statusCode !== 200)
      throw new Error(`token handler: ${response.statusCode} ${response.body}`);
    return JSON.parse(response.body) as { refresh_token: string };
  };
  const login = (i: number, scope: string) =>
    call({
      grant_type: 'password',
      username: `user-${i}`,
      password: 'correct horse battery staple',
      scope,
    });

  const passwordMs = await cpuPerCall(count, async (i) => {
    await login(i, 'openid offline_access read:orders');
  });
  const refreshChain = async (scope: string) => {
    let token = (await login(0, scope)).refresh_token;
    return cpuPerCall(count, async () => {
      token = (await call({ grant_type: 'refresh_token', refresh_token: token })).refresh_token;
    });
  };
  const refreshMs = await refreshChain('offline_access read:orders');
  const refreshOpenidMs = await refreshChain('openid offline_access read:orders');
  const input = new TextEncoder().encode('x'.repeat(600));
  const signMs = await cpuPerCall(count, async () => {
    await signer.sign(input);
  });
  return { passwordMs, refreshMs, refreshOpenidMs, signMs };
}
