import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoAttemptStore } from '../../functions/adapters/dynamodb/attempt-store.ts';
import { DynamoRefreshTokenStore } from '../../functions/adapters/dynamodb/refresh-token-store.ts';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { SesMailer } from '../../functions/adapters/mail/ses-mailer.ts';
import { KmsSigner } from '../../functions/adapters/signing/kms-signer.ts';
import { ConfigError } from '../../functions/config/config-file.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { CONFIG_FILE_NAME, environment, tableEnvironmentVariable } from '../../functions/deployment.ts';
import { proxyHandler } from '../../functions/http/handler.ts';
import { noStoreJson } from '../../functions/http/respond.ts';
import { silentLogger } from '../../functions/logging.ts';
import {
  type AwsServicesOptions,
  awsServices,
  FUNCTION_TIMEOUT_SECONDS,
  sdkClientConfig,
} from '../../functions/runtime/aws-services.ts';
import { counterHashKeyFromSecretsManager } from '../../functions/runtime/counter-hash-key.ts';
import { tables } from '../../functions/store-schema.ts';
import { testConfig } from '../helpers/config.ts';
import {
  type SecretsManagerDouble,
  startSecretsManagerDouble,
  TEST_COUNTER_KEY_SECRET,
  testSecretArn,
} from '../helpers/secrets-manager.ts';

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

const build = (env: NodeJS.ProcessEnv, options: AwsServicesOptions = {}) =>
  awsServices({ env, logger: silentLogger, ...options })();

const SECRET_ARN = testSecretArn();
const counterKeyEnvironment = () => stackEnvironment({ [environment.counterKeySecretArn]: SECRET_ARN });

describe('the Lambda composition root', () => {
  it('builds the services from the stack environment and the config file beside the bundle', async () => {
    const services = await build(stackEnvironment());
    expect(services.config).toEqual(parseConfig(testConfig()));
    expect(services.users).toBeInstanceOf(DynamoUserStore);
    expect(services.refreshTokens).toBeInstanceOf(DynamoRefreshTokenStore);
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

  it('takes the config file as the stack wrote it, validated at synth, and refuses one it cannot read', async () => {
    const services = await build(stackEnvironment());
    expect(Object.isFrozen(services.config.clients[0])).toBe(true);
    const badRoot = mkdtempSync(join(tmpdir(), 'passgate-bad-root-'));
    try {
      await expect(build(stackEnvironment({ LAMBDA_TASK_ROOT: badRoot }))).rejects.toThrow(ConfigError);
      writeFileSync(join(badRoot, CONFIG_FILE_NAME), '{"realms": [');
      await expect(build(stackEnvironment({ LAMBDA_TASK_ROOT: badRoot }))).rejects.toThrow(/not valid JSON/);
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

  it('sends mail through SES only where the stack names the identity, and refuses it elsewhere', async () => {
    const mail = { kind: 'verify-email', to: 'a@example.com', subject: 's', text: 't', html: 'h' } as const;
    await expect((await build(stackEnvironment())).mailer.send(mail)).rejects.toThrow(/does not send mail/);
    const sending = await build(
      stackEnvironment({
        [environment.mailIdentityArn]: 'arn:aws:ses:eu-west-1:111122223333:identity/example.com',
      }),
    );
    expect(sending.mailer).toBeInstanceOf(SesMailer);
  });

  it('gives functions that do not count login attempts counters that refuse, without the secret', async () => {
    const services = await build(stackEnvironment());
    expect(services.counterHashKey).toHaveLength(0);
    const ipDay = { key: 'ip#x#0', endsAt: 86_400 };
    const counter = { key: 'ui#x', userRef: 'u#x', ipDay };
    const attempt = { id: 'a', now: 0, failuresUntil: 1, maxConsecutiveFailures: 10, maxFailuresPerDay: 100 };
    for (const call of [
      () => services.attempts.read(counter, 0),
      () => services.attempts.charge(counter, { consecutiveFailures: 0, ipFailures: 0 }, attempt),
      () => services.attempts.withdraw(counter, attempt),
      () => services.attempts.refund(counter, attempt),
      () => services.attempts.reserveIpDay(ipDay, attempt),
      () => services.attempts.releaseIpDay(ipDay, attempt),
      () => services.attempts.resetUser('u#x'),
    ]) {
      await expect(call()).rejects.toThrow(/does not count login attempts/);
    }
  });

  it("reads the counters' key through the given source, from the secret the stack names", async () => {
    const key = new Uint8Array(Buffer.from(TEST_COUNTER_KEY_SECRET));
    const source = vi.fn(async () => key);
    const services = await build(counterKeyEnvironment(), { counterHashKey: source });
    expect(source).toHaveBeenCalledExactlyOnceWith(SECRET_ARN);
    expect(services.counterHashKey).toBe(key);
    expect(services.attempts).toBeInstanceOf(DynamoAttemptStore);
  });

  it('names the secret variable too when a function that counts attempts lacks it', async () => {
    const source = vi.fn(async () => new Uint8Array(64));
    await expect(build(stackEnvironment(), { counterHashKey: source })).rejects.toThrow(
      `missing environment variable(s) set by the stack: ${environment.counterKeySecretArn}`,
    );
    expect(source).not.toHaveBeenCalled();
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

describe("the counters' key from Secrets Manager", () => {
  let secretsManager: SecretsManagerDouble;
  beforeAll(async () => {
    secretsManager = await startSecretsManagerDouble({ [SECRET_ARN]: TEST_COUNTER_KEY_SECRET });
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsManager.endpoint);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await secretsManager.close();
  });

  const event = { requestContext: { requestId: 'r1' } } as unknown as APIGatewayProxyEvent;

  it("is the secret string's UTF-8 bytes, read once per cold start; 503 while unavailable, then read again", async () => {
    const seen: Uint8Array[] = [];
    const handler = proxyHandler(
      async (_event, services) => {
        seen.push(services.counterHashKey);
        return noStoreJson(200, {});
      },
      awsServices({
        env: counterKeyEnvironment(),
        logger: silentLogger,
        counterHashKey: counterHashKeyFromSecretsManager,
      }),
    );
    secretsManager.failWith = 'InternalServiceError';
    const unavailable = await handler(event);
    expect(unavailable.statusCode).toBe(503);
    expect(JSON.parse(unavailable.body).error).toBe('temporarily_unavailable');
    // The shared SDK settings: one retry, then the function answers by itself.
    expect(secretsManager.calls).toHaveLength(sdkClientConfig.maxAttempts);

    secretsManager.failWith = undefined;
    expect((await handler(event)).statusCode).toBe(200);
    expect((await handler(event)).statusCode).toBe(200);
    expect(secretsManager.calls.map((call) => [call.target, call.body.SecretId])).toEqual([
      ...Array(sdkClientConfig.maxAttempts + 1).fill(['secretsmanager.GetSecretValue', SECRET_ARN]),
    ]);
    expect(seen).toHaveLength(2);
    expect(Buffer.from(seen[0] as Uint8Array).toString('utf8')).toBe(TEST_COUNTER_KEY_SECRET);
  });
});
