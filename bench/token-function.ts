/**
 * The built token function, ready to run as Lambda runs it (test/helpers/lambda-task.ts), with
 * DynamoDB served by dynalite and KMS and Secrets Manager by doubles on loopback, as in the bundle
 * smoke test, and one user, `alice`, with the bench password. Each service is reached through a
 * delay proxy (delay-proxy.ts), so a bench can add latency to every AWS call and count the calls.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { dynamoStores } from '../functions/adapters/dynamodb/stores.ts';
import { Argon2Hasher } from '../functions/adapters/passwords/argon2-hasher.ts';
import { counterHashKeyOf } from '../functions/adapters/secrets/counter-hash-key.ts';
import { createUser } from '../functions/admin/user-admin.ts';
import { parseConfig } from '../functions/config/load.ts';
import type { TenantConfig } from '../functions/config/schema.ts';
import { CONFIG_FILE_NAME, environment, tableEnvironmentVariable } from '../functions/deployment.ts';
import { startEmbeddedStore } from '../functions/local/embedded-store.ts';
import { systemClock } from '../functions/oauth/ports.ts';
import { localTableNames, tables } from '../functions/store-schema.ts';
import { type BundleReport, buildBundles } from '../scripts/build-bundles.ts';
import { proxyEvent } from '../test/helpers/events.ts';
import { startKmsDouble, testKmsKey, testWrappingKey } from '../test/helpers/kms.ts';
import { lambdaEnvironment, prepareTaskRoot } from '../test/helpers/lambda-task.ts';
import {
  startSecretsManagerDouble,
  TEST_COUNTER_KEY_SECRET,
  testSecretArn,
} from '../test/helpers/secrets-manager.ts';
import { type DelayProxy, type ProxiedCall, startDelayProxy } from './delay-proxy.ts';
import { BENCH_PASSWORD, benchConfig } from './local-server-process.ts';

export const BENCH_USER = 'alice';

export interface TokenFunction {
  readonly workDir: string;
  readonly bundles: readonly BundleReport[];
  /** The token function's task root and the environment the stack would give it. */
  readonly taskRoot: string;
  readonly env: Record<string, string>;
  /** One proxy per service; set `delayMs` on all of them with `setDelay`. */
  readonly proxies: {
    readonly dynamodb: DelayProxy;
    readonly kms: DelayProxy;
    readonly secretsManager: DelayProxy;
  };
  setDelay(ms: number): void;
  /** The calls made through all proxies so far, in the order they arrived. */
  calls(): ProxiedCall[];
  close(): Promise<void>;
}

/** A token request as a mobile app sends it, through API Gateway. */
export function tokenEvent(params: Record<string, string>, sourceIp?: string): APIGatewayProxyEvent {
  return proxyEvent({
    sourceIp,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'okhttp/4.12.0' },
    body: new URLSearchParams(params).toString(),
  });
}

export type SigningMode = TenantConfig['signing']['mode'];

export async function prepareTokenFunction(signing: SigningMode = 'kms'): Promise<TokenFunction> {
  const workDir = mkdtempSync(join(tmpdir(), 'passgate-bench-fn-'));
  const store = await startEmbeddedStore(join(workDir, 'dynalite'));
  const key = testKmsKey();
  const wrapping = testWrappingKey();
  const kms = await startKmsDouble([key], [wrapping]);
  const secretArn = testSecretArn();
  const secretsManager = await startSecretsManagerDouble({ [secretArn]: TEST_COUNTER_KEY_SECRET });
  const proxies = {
    dynamodb: await startDelayProxy(store.endpoint),
    kms: await startDelayProxy(kms.endpoint),
    secretsManager: await startDelayProxy(secretsManager.endpoint),
  };
  const close = async () => {
    for (const proxy of Object.values(proxies)) await proxy.close();
    await secretsManager.close();
    await kms.close();
    await store.close();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const bundles = await buildBundles();
    const token = bundles.find((report) => report.endpoint === 'token');
    if (!token) throw new Error('no token bundle was built');
    const config = parseConfig({ ...benchConfig(), signing: { mode: signing } });
    await createUser(
      {
        config,
        ...dynamoStores(store.db, localTableNames),
        counterHashKey: counterHashKeyOf(TEST_COUNTER_KEY_SECRET, secretArn),
        hasher: new Argon2Hasher(),
        clock: systemClock,
      },
      { realm: 'customers', username: BENCH_USER, password: BENCH_PASSWORD },
    );
    mkdirSync(join(workDir, 'token'));
    const taskRoot = prepareTaskRoot(token.dir, join(workDir, 'token', 'task'));
    writeFileSync(join(taskRoot, CONFIG_FILE_NAME), JSON.stringify(config));
    const env = {
      ...lambdaEnvironment({
        dynamodb: proxies.dynamodb.endpoint,
        kms: proxies.kms.endpoint,
        secretsManager: proxies.secretsManager.endpoint,
      }),
      ...Object.fromEntries(
        tables.map((table) => [tableEnvironmentVariable(table.id), localTableNames[table.id]]),
      ),
      ...(signing === 'kms'
        ? { [environment.signingKeyId]: key.keyId }
        : { [environment.wrappingKeyId]: wrapping.keyId, [environment.signingKeyName]: 'initial' }),
      [environment.counterKeySecretArn]: secretArn,
    };
    return {
      workDir,
      bundles,
      taskRoot,
      env,
      proxies,
      setDelay(ms) {
        for (const proxy of Object.values(proxies)) proxy.delayMs = ms;
      },
      calls: () =>
        Object.values(proxies)
          .flatMap((proxy) => proxy.calls)
          .sort((a, b) => a.startMs - b.startMs),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
