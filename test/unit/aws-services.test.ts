import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { KmsSigner } from '../../functions/adapters/signing/kms-signer.ts';
import { ConfigError, parseConfig } from '../../functions/config/load.ts';
import { CONFIG_FILE_NAME, environment, tableEnvironmentVariable } from '../../functions/deployment.ts';
import { silentLogger } from '../../functions/logging.ts';
import {
  awsServices,
  FUNCTION_TIMEOUT_SECONDS,
  sdkClientConfig,
} from '../../functions/runtime/aws-services.ts';
import { tables } from '../../functions/store-schema.ts';
import { testConfig } from '../helpers/config.ts';

const taskRoot = mkdtempSync(join(tmpdir(), 'passgate-task-root-'));
writeFileSync(join(taskRoot, CONFIG_FILE_NAME), JSON.stringify(parseConfig(testConfig())));
afterAll(() => rmSync(taskRoot, { recursive: true, force: true }));

/** What the stack sets on every function, plus what Lambda sets itself. */
const stackEnvironment = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  LAMBDA_TASK_ROOT: taskRoot,
  AWS_REGION: 'eu-west-1',
  ...Object.fromEntries(tables.map((table) => [tableEnvironmentVariable(table.id), `Passgate-${table.id}`])),
  [environment.signingKeyId]: 'arn:aws:kms:eu-west-1:111122223333:key/current',
  ...extra,
});

const build = (env: NodeJS.ProcessEnv) => awsServices({ env, logger: silentLogger })();

describe('the Lambda composition root', () => {
  it('builds the services from the stack environment and the config file beside the bundle', async () => {
    const services = await build(stackEnvironment());
    expect(services.config).toEqual(parseConfig(testConfig()));
    expect(services.users).toBeInstanceOf(DynamoUserStore);
    expect(services.signer).toBeInstanceOf(KmsSigner);
    expect(services.issuer).toBeUndefined();
  });

  it('takes a fixed issuer for a custom domain, and only an https URL ending in "/"', async () => {
    const services = await build(stackEnvironment({ [environment.issuer]: 'https://auth.example.com/' }));
    expect(services.issuer).toBe('https://auth.example.com/');
    await expect(
      build(stackEnvironment({ [environment.issuer]: 'https://auth.example.com' })),
    ).rejects.toThrow(/must be an https URL ending in "\/"/);
    await expect(
      build(stackEnvironment({ [environment.issuer]: 'http://auth.example.com/' })),
    ).rejects.toThrow(/must be an https URL/);
  });

  it('names every missing variable at once', async () => {
    await expect(build({ LAMBDA_TASK_ROOT: taskRoot })).rejects.toThrow(
      `missing environment variable(s) set by the stack: ${[
        ...tables.map((table) => tableEnvironmentVariable(table.id)),
        environment.signingKeyId,
      ].join(', ')}`,
    );
  });

  it('validates the config again at cold start', async () => {
    const badRoot = mkdtempSync(join(tmpdir(), 'passgate-bad-root-'));
    try {
      writeFileSync(
        join(badRoot, CONFIG_FILE_NAME),
        JSON.stringify({ ...testConfig(), defaultRealm: 'staff' }),
      );
      await expect(build(stackEnvironment({ LAMBDA_TASK_ROOT: badRoot }))).rejects.toThrow(ConfigError);
    } finally {
      rmSync(badRoot, { recursive: true, force: true });
    }
  });

  it('gives functions without a hasher one that refuses, rather than loading argon2', async () => {
    const services = await build(stackEnvironment());
    await expect(services.hasher.verify('$argon2id$…', 'password')).rejects.toThrow(
      /does not hash passwords/,
    );
  });

  it('lets every SDK call give up within half the function timeout, so the function answers 503 itself', () => {
    const { maxAttempts, requestHandler } = sdkClientConfig;
    expect(requestHandler.throwOnRequestTimeout).toBe(true);
    // Standard retry mode: at most 2^attempt × 500 ms back-off for throttling, before each retry.
    const backoff = Array.from({ length: maxAttempts - 1 }, (_, i) => 2 ** (i + 1) * 500).reduce(
      (a, b) => a + b,
      0,
    );
    const worst = maxAttempts * (requestHandler.connectionTimeout + requestHandler.requestTimeout) + backoff;
    expect(worst).toBeLessThanOrEqual((FUNCTION_TIMEOUT_SECONDS * 1000) / 2);
  });
});
