/**
 * Cold start of the Lambda bundles: the JavaScript size of each one, and the time from a fresh
 * `node` process to the first completed invocation of the token bundle (Node boot, import, config,
 * clients, one password grant), with DynamoDB served by dynalite and KMS and Secrets Manager by
 * doubles on loopback, as in the bundle smoke test (test/helpers/lambda-task.ts runs both).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamoStores } from '../functions/adapters/dynamodb/stores.ts';
import { Argon2Hasher } from '../functions/adapters/passwords/argon2-hasher.ts';
import { counterHashKeyOf } from '../functions/adapters/secrets/counter-hash-key.ts';
import { createUser } from '../functions/admin/user-admin.ts';
import { parseConfig } from '../functions/config/load.ts';
import { CONFIG_FILE_NAME, environment, tableEnvironmentVariable } from '../functions/deployment.ts';
import { startEmbeddedStore } from '../functions/local/embedded-store.ts';
import { systemClock } from '../functions/oauth/ports.ts';
import { localTableNames, tables } from '../functions/store-schema.ts';
import { buildBundles } from '../scripts/build-bundles.ts';
import { proxyEvent } from '../test/helpers/events.ts';
import { startKmsDouble, testKmsKey } from '../test/helpers/kms.ts';
import { lambdaEnvironment, prepareTaskRoot, startFunctionProcess } from '../test/helpers/lambda-task.ts';
import {
  startSecretsManagerDouble,
  TEST_COUNTER_KEY_SECRET,
  testSecretArn,
} from '../test/helpers/secrets-manager.ts';
import { median } from './load.ts';
import { BENCH_PASSWORD, benchConfig } from './local-server-process.ts';

export interface ColdStart {
  /** Bytes of each bundle's JavaScript: index.mjs and its chunks. */
  readonly bundleBytes: Readonly<Record<string, number>>;
  /** Medians over the runs, in ms: fork to first completed invocation, and its two parts. */
  readonly totalMs: number;
  readonly importMs: number;
  readonly firstCallMs: number;
  /** Median of the same measure for a bundle whose handler does nothing: what no bundle can save. */
  readonly emptyHandlerMs: number;
}

export async function measureColdStart(runs: number): Promise<ColdStart> {
  const workDir = mkdtempSync(join(tmpdir(), 'passgate-bench-cold-'));
  const store = await startEmbeddedStore(join(workDir, 'dynalite'));
  const key = testKmsKey();
  const kms = await startKmsDouble([key]);
  const secretArn = testSecretArn();
  const secretsManager = await startSecretsManagerDouble({ [secretArn]: TEST_COUNTER_KEY_SECRET });
  try {
    const reports = await buildBundles();
    const bundleBytes = Object.fromEntries(reports.map((report) => [report.endpoint, report.codeBytes]));
    const token = reports.find((report) => report.endpoint === 'token');
    if (!token) throw new Error('no token bundle was built');

    const config = parseConfig(benchConfig());
    await createUser(
      {
        config,
        ...dynamoStores(store.db, localTableNames),
        counterHashKey: counterHashKeyOf(TEST_COUNTER_KEY_SECRET, secretArn),
        hasher: new Argon2Hasher(),
        clock: systemClock,
      },
      { realm: 'customers', username: 'alice', password: BENCH_PASSWORD },
    );
    mkdirSync(join(workDir, 'token'));
    const taskRoot = prepareTaskRoot(token.dir, join(workDir, 'token', 'task'));
    writeFileSync(join(taskRoot, CONFIG_FILE_NAME), JSON.stringify(config));
    const env = {
      ...lambdaEnvironment({
        dynamodb: store.endpoint,
        kms: kms.endpoint,
        secretsManager: secretsManager.endpoint,
      }),
      ...Object.fromEntries(
        tables.map((table) => [tableEnvironmentVariable(table.id), localTableNames[table.id]]),
      ),
      [environment.signingKeyId]: key.keyId,
      [environment.counterKeySecretArn]: secretArn,
    };
    const event = proxyEvent({
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'okhttp/4.12.0' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'mobile-app',
        username: 'alice',
        password: BENCH_PASSWORD,
        scope: 'openid offline_access read:orders',
      }).toString(),
    });

    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of every cold start, to see where its time goes.
    const profile = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
    const totals: number[] = [];
    const imports: number[] = [];
    const firstCalls: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const fn = await startFunctionProcess(taskRoot, env, profile);
      try {
        const result = await fn.invoke(event);
        totals.push(performance.now() - started);
        if (result.statusCode !== 200) {
          throw new Error(`token bundle answered ${result.statusCode} ${result.body}\n${fn.output()}`);
        }
        imports.push(fn.importedAtMs);
        firstCalls.push(result.atMs - fn.importedAtMs);
      } finally {
        fn.stop();
      }
    }
    const emptyRoot = join(workDir, 'empty', 'task');
    mkdirSync(emptyRoot, { recursive: true });
    writeFileSync(
      join(emptyRoot, 'index.mjs'),
      'export const handler = async () => ({ statusCode: 200, body: "" });\n',
    );
    const empties: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const fn = await startFunctionProcess(emptyRoot, env);
      try {
        await fn.invoke(event);
        empties.push(performance.now() - started);
      } finally {
        fn.stop();
      }
    }
    return {
      emptyHandlerMs: median(empties),
      bundleBytes,
      totalMs: median(totals),
      importMs: median(imports),
      firstCallMs: median(firstCalls),
    };
  } finally {
    await secretsManager.close();
    await kms.close();
    await store.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
