/**
 * The built token function, ready to run as Lambda runs it (test/helpers/lambda-task.ts), with
 * DynamoDB served by dynalite and KMS and Secrets Manager by doubles on loopback, as in the bundle
 * smoke test, and two users with the bench password: `alice`, and `mallory` of the MFA realm, who
 * has an authenticator. Each service is reached through a delay proxy (delay-proxy.ts), so a bench
 * can add latency to every AWS call and count the calls.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Secret, TOTP } from 'otpauth';
import { dynamoStores } from '../functions/adapters/dynamodb/stores.ts';
import { userKey } from '../functions/adapters/dynamodb/user-store.ts';
import { Argon2Hasher } from '../functions/adapters/passwords/argon2-hasher.ts';
import { KmsSealer } from '../functions/adapters/sealing/kms-sealer.ts';
import { counterHashKeyOf } from '../functions/adapters/secrets/counter-hash-key.ts';
import { type AdminServices, createUser } from '../functions/admin/user-admin.ts';
import { parseConfig } from '../functions/config/load.ts';
import type { TenantConfig } from '../functions/config/schema.ts';
import { CONFIG_FILE_NAME, environment, tableEnvironmentVariable } from '../functions/deployment.ts';
import { startEmbeddedStore } from '../functions/local/embedded-store.ts';
import { sealContext } from '../functions/oauth/mfa/mfa-api.ts';
import { hashRecoveryCode, newRecoveryCode } from '../functions/oauth/mfa/recovery-code.ts';
import { systemClock } from '../functions/oauth/ports.ts';
import type { Services } from '../functions/oauth/services.ts';
import { localTableNames, tables } from '../functions/store-schema.ts';
import { type BundleReport, buildBundles } from '../scripts/build-bundles.ts';
import { proxyEvent } from '../test/helpers/events.ts';
import { MFA_KEY_ID, startKmsDouble, testKmsKey, testWrappingKey } from '../test/helpers/kms.ts';
import { lambdaEnvironment, prepareTaskRoot } from '../test/helpers/lambda-task.ts';
import {
  startSecretsManagerDouble,
  TEST_COUNTER_KEY_SECRET,
  testSecretArn,
} from '../test/helpers/secrets-manager.ts';
import { type DelayProxy, type ProxiedCall, startDelayProxy } from './delay-proxy.ts';
import { BENCH_PASSWORD, benchConfig, MFA_REALM } from './local-server-process.ts';

export const BENCH_USER = 'alice';
/** A user of the MFA realm with a confirmed authenticator whose secret the bench knows. */
export const MFA_USER = 'mallory';

export interface TokenFunction {
  readonly workDir: string;
  readonly bundles: readonly BundleReport[];
  /** The token function's task root and the environment the stack would give it. */
  readonly taskRoot: string;
  readonly env: Record<string, string>;
  /** The same with the MFA key the stack adds where a realm uses MFA (a KMS client more at init). */
  readonly mfaEnv: Record<string, string>;
  /** The MFA user's current TOTP code (RFC 6238), and a reset of its last accepted step. */
  totpCode(): string;
  forgetAcceptedCodes(): Promise<void>;
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
export function tokenEvent(
  params: Record<string, string>,
  sourceIp?: string,
  headers: Record<string, string> = {},
): APIGatewayProxyEvent {
  return proxyEvent({
    sourceIp,
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': 'okhttp/4.12.0',
      ...headers,
    },
    body: new URLSearchParams(params).toString(),
  });
}

/** Where a DPoP proof for the token endpoint points (`htu`): under the stage URL of proxyEvent's API. */
export const TOKEN_ENDPOINT_URL = (() => {
  const { domainName, stage } = proxyEvent({}).requestContext;
  return `https://${domainName}/${stage}/oauth/token`;
})();

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
    const admin = {
      config,
      ...dynamoStores(store.db, localTableNames),
      counterHashKey: counterHashKeyOf(TEST_COUNTER_KEY_SECRET, secretArn),
      hasher: new Argon2Hasher(),
      clock: systemClock,
    };
    await createUser(admin, { realm: 'customers', username: BENCH_USER, password: BENCH_PASSWORD });
    const totpSecret = await enrolMfaUser(admin, kms.endpoint);
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
      mfaEnv: { ...env, [environment.mfaKeyId]: MFA_KEY_ID },
      totpCode: () => TOTP.generate({ secret: new Secret({ buffer: totpSecret.buffer as ArrayBuffer }) }),
      forgetAcceptedCodes: async () => {
        await store.db.send(
          new UpdateCommand({
            TableName: localTableNames.users,
            Key: userKey(MFA_REALM, MFA_USER),
            UpdateExpression: 'SET mfa_last_step = :zero',
            ExpressionAttributeValues: { ':zero': 0 },
          }),
        );
      },
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

/**
 * The MFA user, with an authenticator as `mfa/associate` leaves it once its first code was
 * accepted: the secret sealed by the KMS double's MFA key for this user and authenticator.
 */
async function enrolMfaUser(
  admin: AdminServices & Pick<Services, 'mfa'>,
  kmsEndpoint: string,
): Promise<Uint8Array> {
  const user = await createUser(admin, { realm: MFA_REALM, username: MFA_USER, password: BENCH_PASSWORD });
  const secret = new Uint8Array(randomBytes(20));
  const authenticatorId = 'dev_bench';
  const sealer = new KmsSealer(
    new KMSClient({
      endpoint: kmsEndpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    }),
    MFA_KEY_ID,
  );
  const enrolled = await admin.mfa.enrol(user, {
    authenticator_id: authenticatorId,
    active: true,
    created_at: new Date().toISOString(),
    sealed_secret: await sealer.seal(secret, sealContext(user, authenticatorId)),
    last_step: 0,
    recovery_code_hash: hashRecoveryCode(newRecoveryCode()),
  });
  if (!enrolled) throw new Error('the bench could not enrol its MFA user');
  return secret;
}
