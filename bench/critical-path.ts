/**
 * The critical path of each grant in the built token function: every DynamoDB, KMS and Secrets
 * Manager call is delayed by the same fixed time (delay-proxy.ts), and a grant's median latency
 * with the delay, minus its median without, divided by the delay, is the number of calls it waits
 * for one after another (its sequential rounds). On Lambda the billed duration is wall time, so
 * each round is paid for in milliseconds, and felt by the user.
 *
 * On a busy machine timers fire late and that ratio overshoots, so the rounds are also counted
 * exactly from the proxies' log: the longest chain of calls each of which started after the one
 * before it was answered.
 *
 * One fresh function process per run: its first call is the first login after a cold start; then
 * warm logins, failed logins and refreshes, and the same login and refresh bound to a DPoP key
 * (RFC 9449). Then a process with the MFA key for the MFA grants (sampleMfa). Runs alternate
 * between no delay and the delay, so that a machine whose load drifts during the bench affects
 * both sides alike.
 */
import { GRANT_MFA_OTP, GRANT_PASSWORD_REALM } from '../functions/config/grant-types.ts';
import { type DpopKey, dpopKey, dpopProof } from '../test/helpers/dpop.ts';
import { startFunctionProcess } from '../test/helpers/lambda-task.ts';
import type { ProxiedCall } from './delay-proxy.ts';
import { median } from './load.ts';
import { BENCH_PASSWORD, MFA_REALM } from './local-server-process.ts';
import {
  BENCH_USER,
  MFA_USER,
  prepareTokenFunction,
  type SigningMode,
  TOKEN_ENDPOINT_URL,
  type TokenFunction,
  tokenEvent,
} from './token-function.ts';

export type PathGrant =
  | 'login'
  | 'wrong password'
  | 'refresh'
  | 'first login after a cold start'
  | 'login, DPoP-bound'
  | 'refresh, DPoP-bound'
  | 'login of an MFA user (mfa_required)'
  | 'MFA code (mfa-otp grant)';

export interface GrantPath {
  readonly grant: PathGrant;
  readonly signing: SigningMode;
  /** Median ms without added delay, and with `delayMs` added to every AWS call. */
  readonly p50Ms: number;
  readonly p50DelayedMs: number;
  readonly delayMs: number;
  /** (p50 delayed − p50) ÷ delay: the calls waited for one after another, as timed. */
  readonly timedRounds: number;
  /** The longest chain of calls, each started after the previous one's answer (delayed runs). */
  readonly rounds: number;
  /** Calls per grant, by operation (`GetItem`, `Sign` …) and by service. */
  readonly operations: Readonly<Record<string, number>>;
  /** Items read or written per operation (a BatchGetItem's keys, a transaction's actions). */
  readonly items: Readonly<Record<string, number>>;
  readonly dynamodbCalls: number;
  readonly kmsCalls: number;
  readonly secretsManagerCalls: number;
}

const loginParams = {
  grant_type: 'password',
  client_id: 'mobile-app',
  username: BENCH_USER,
  password: BENCH_PASSWORD,
  scope: 'openid offline_access read:orders',
};
const login = tokenEvent(loginParams);
// From another IP: the successful logins' counter then holds no failure of the day, as for most users.
const wrongPassword = tokenEvent(
  { grant_type: 'password', client_id: 'mobile-app', username: BENCH_USER, password: 'not the password' },
  '203.0.113.9',
);
const refresh = (token: string, headers?: Record<string, string>) =>
  tokenEvent(
    { grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: token },
    undefined,
    headers,
  );

/** A request with a fresh DPoP proof of `key` for the token endpoint (RFC 9449 §4.2). */
const withProof = async (key: DpopKey) => ({
  DPoP: await dpopProof(key, { htm: 'POST', htu: TOKEN_ENDPOINT_URL }),
});

const mfaLogin = tokenEvent({
  grant_type: GRANT_PASSWORD_REALM,
  client_id: 'mobile-app',
  realm: MFA_REALM,
  username: MFA_USER,
  password: BENCH_PASSWORD,
  scope: 'openid offline_access read:orders',
});
const mfaCode = (mfaToken: string, otp: string) =>
  tokenEvent({ grant_type: GRANT_MFA_OTP, client_id: 'mobile-app', mfa_token: mfaToken, otp });

interface Sample {
  readonly ms: number;
  readonly calls: readonly ProxiedCall[];
}

/** The calls `fn`'s proxies saw during `run`, and how long it took as its caller saw it. */
async function sample<T>(fn: TokenFunction, run: () => Promise<T>): Promise<Sample & { result: T }> {
  const seen = fn.calls().length;
  const started = performance.now();
  const result = await run();
  const ms = performance.now() - started;
  return { ms, calls: fn.calls().slice(seen), result };
}

/**
 * The MFA grants in a process of their own, with the MFA key in its environment as the stack sets
 * it where a realm uses MFA: the password (answered `mfa_required` with an `mfa_token`), then the
 * code. Each code is the current one; the user's last accepted step is reset before each, out of
 * band, since RFC 6238 accepts a code once. A first, unrecorded round warms the MFA code paths.
 */
async function sampleMfa(
  fn: TokenFunction,
  delay: number,
  warm: number,
  keep: (grant: PathGrant, delay: number, taken: Sample) => void,
) {
  fn.setDelay(0);
  const lambda = await startFunctionProcess(fn.taskRoot, fn.mfaEnv);
  try {
    fn.setDelay(delay);
    for (let i = 0; i <= warm; i++) {
      await fn.forgetAcceptedCodes();
      const password = await sample(fn, () => lambda.invoke(mfaLogin));
      const challenge = JSON.parse(password.result.body) as Record<string, string>;
      if (password.result.statusCode !== 403 || challenge.error !== 'mfa_required') {
        throw new Error(`MFA login answered ${password.result.statusCode} ${password.result.body}`);
      }
      const code = await sample(fn, () =>
        lambda.invoke(mfaCode(challenge.mfa_token as string, fn.totpCode())),
      );
      if (code.result.statusCode !== 200) {
        throw new Error(`mfa-otp answered ${code.result.statusCode} ${code.result.body}\n${lambda.output()}`);
      }
      if (i === 0) continue;
      keep('login of an MFA user (mfa_required)', delay, password);
      keep('MFA code (mfa-otp grant)', delay, code);
    }
  } finally {
    lambda.stop();
  }
}

/** The longest chain of calls in which each one started after the one before it was answered. */
export function longestChain(calls: readonly ProxiedCall[]): number {
  const sorted = [...calls].sort((a, b) => a.startMs - b.startMs);
  const depth: number[] = [];
  sorted.forEach((call, i) => {
    let before = 0;
    for (let j = 0; j < i; j++) {
      if ((sorted[j] as ProxiedCall).endMs <= call.startMs) before = Math.max(before, depth[j] as number);
    }
    depth.push(before + 1);
  });
  return Math.max(0, ...depth);
}

/** Calls (or items) per operation, without the service prefix: `{ GetItem: 3, Sign: 2 }`. */
function operationsOf(calls: readonly ProxiedCall[], count: (call: ProxiedCall) => number = () => 1) {
  const counts: Record<string, number> = {};
  for (const call of calls) {
    const name = call.operation.split('.')[1] ?? call.operation;
    counts[name] = (counts[name] ?? 0) + count(call);
  }
  return counts;
}

/**
 * `runs` fresh function processes per delay, each with `warm` rounds of warm grants after its
 * first login. The call counts are those of the undelayed runs' last sample (they do not vary).
 */
export async function measureCriticalPath(options: {
  runs: number;
  warm: number;
  delayMs: number;
  signing: SigningMode;
}): Promise<GrantPath[]> {
  const fn = await prepareTokenFunction(options.signing);
  const samples = new Map<PathGrant, Map<number, Sample[]>>();
  const keep = (grant: PathGrant, delay: number, taken: Sample) => {
    const byDelay = samples.get(grant) ?? new Map<number, Sample[]>();
    samples.set(grant, byDelay);
    byDelay.set(delay, [...(byDelay.get(delay) ?? []), taken]);
  };
  try {
    for (let run = 0; run < options.runs; run++) {
      const delays = run % 2 === 0 ? [0, options.delayMs] : [options.delayMs, 0];
      for (const delay of delays) {
        fn.setDelay(0); // the process starts alike in both halves
        const lambda = await startFunctionProcess(fn.taskRoot, fn.env);
        try {
          fn.setDelay(delay);
          const expect = (status: number, reply: { statusCode: number; body: string }) => {
            if (reply.statusCode !== status) {
              throw new Error(
                `token function answered ${reply.statusCode} ${reply.body}\n${lambda.output()}`,
              );
            }
            return JSON.parse(reply.body) as Record<string, string>;
          };
          const first = await sample(fn, () => lambda.invoke(login));
          keep('first login after a cold start', delay, first);
          let token = expect(200, first.result).refresh_token as string;
          const device = await dpopKey();
          for (let i = 0; i < options.warm; i++) {
            // Each proof is made before its request is timed, as an app makes it before sending.
            const boundLogin = tokenEvent(loginParams, undefined, await withProof(device));
            const bound = await sample(fn, () => lambda.invoke(boundLogin));
            keep('login, DPoP-bound', delay, bound);
            const boundToken = expect(200, bound.result).refresh_token as string;
            const boundRefreshEvent = refresh(boundToken, await withProof(device));
            const boundRefresh = await sample(fn, () => lambda.invoke(boundRefreshEvent));
            keep('refresh, DPoP-bound', delay, boundRefresh);
            expect(200, boundRefresh.result);
            const success = await sample(fn, () => lambda.invoke(login));
            keep('login', delay, success);
            expect(200, success.result);
            const failure = await sample(fn, () => lambda.invoke(wrongPassword));
            keep('wrong password', delay, failure);
            expect(400, failure.result);
            const refreshed = await sample(fn, () => lambda.invoke(refresh(token)));
            keep('refresh', delay, refreshed);
            token = expect(200, refreshed.result).refresh_token as string;
          }
        } finally {
          lambda.stop();
        }
        await sampleMfa(fn, delay, options.warm, keep);
      }
    }
  } finally {
    await fn.close();
  }
  return [...samples].map(([grant, byDelay]) => {
    const plain = byDelay.get(0) ?? [];
    const delayed = byDelay.get(options.delayMs) ?? [];
    const p50Ms = median(plain.map((taken) => taken.ms));
    const p50DelayedMs = median(delayed.map((taken) => taken.ms));
    const calls = plain.at(-1)?.calls ?? [];
    const of = (service: string) => calls.filter(({ operation }) => operation.startsWith(service)).length;
    return {
      grant,
      signing: options.signing,
      p50Ms,
      p50DelayedMs,
      delayMs: options.delayMs,
      timedRounds: (p50DelayedMs - p50Ms) / options.delayMs,
      rounds: median(delayed.map((taken) => longestChain(taken.calls))),
      operations: operationsOf(calls),
      items: operationsOf(calls, (call) => call.items),
      dynamodbCalls: of('DynamoDB'),
      kmsCalls: of('TrentService'),
      secretsManagerCalls: of('secretsmanager'),
    };
  });
}
