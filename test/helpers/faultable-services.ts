import { KMSClient } from '@aws-sdk/client-kms';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { documentClient } from '../../functions/adapters/dynamodb/client.ts';
import { dynamoStores } from '../../functions/adapters/dynamodb/stores.ts';
import { mailSender } from '../../functions/adapters/mail/mail-sender.ts';
import { SesMailer } from '../../functions/adapters/mail/ses-mailer.ts';
import { KmsSealer } from '../../functions/adapters/sealing/kms-sealer.ts';
import { KmsSigner } from '../../functions/adapters/signing/kms-signer.ts';
import { createUser } from '../../functions/admin/user-admin.ts';
import { parseConfig } from '../../functions/config/load.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { proxyHandler } from '../../functions/http/handler.ts';
import { localClientConfig } from '../../functions/local/embedded-store.ts';
import type { Logger } from '../../functions/logging.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { type EndpointName, endpoints } from '../../functions/routes.ts';
import { sdkClientConfig } from '../../functions/runtime/aws-services.ts';
import { testConfig } from './config.ts';
import { openTestStore, type TestStore } from './dynamodb.ts';
import { type FaultRule, injectFaults } from './faults.ts';
import { type KmsDouble, MFA_KEY_ID, startKmsDouble, testKmsKey } from './kms.ts';
import { RecordingHasher } from './memory-ports.ts';
import { type SesDouble, startSesDouble } from './ses.ts';

/**
 * The production composition, in process: the real DynamoDB and KMS SDK clients with the Lambda's
 * retry and timeout settings (aws-services.ts), against dynalite and a KMS double on loopback.
 * Faults are injected under those clients, so retries, timeouts and error translation are real.
 */
export interface FaultableDeployment {
  readonly services: Services;
  readonly store: TestStore;
  /** What SES received: the mails users would get. */
  readonly ses: SesDouble;
  readonly lines: Record<string, unknown>[];
  call(endpoint: EndpointName, event: APIGatewayProxyEvent): ReturnType<ReturnType<typeof proxyHandler>>;
  /** Runs `run` with the rules in force on every client (DynamoDB, KMS, SES); reports which faults fired. */
  withFaults<T>(rules: FaultRule[], run: () => Promise<T>): Promise<{ result: T; fired: number }>;
  /** Calls per operation (GetItem, UpdateItem, Sign, …) that `run` makes. */
  countCalls(run: () => Promise<unknown>): Promise<Map<string, number>>;
  addUser(username: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export async function faultableDeployment(
  config: TenantConfigInput = testConfig(),
): Promise<FaultableDeployment> {
  const store = await openTestStore();
  const key = testKmsKey();
  const kms: KmsDouble = await startKmsDouble([key]);
  const ses = await startSesDouble();
  const db = documentClient({ ...localClientConfig(store.endpoint), ...sdkClientConfig });
  const kmsClient = new KMSClient({
    ...sdkClientConfig,
    endpoint: kms.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'passgatelocal', secretAccessKey: 'passgatelocal' },
  });
  const lines: Record<string, unknown>[] = [];
  const logger: Logger = { log: (level, message, fields) => lines.push({ level, message, ...fields }) };
  const parsed = parseConfig(config);
  const services: Services = {
    config: parsed,
    ...dynamoStores(db, store.names),
    counterHashKey: Buffer.alloc(32, 9),
    hasher: new RecordingHasher(),
    signer: new KmsSigner({ client: kmsClient, signingKeyId: key.keyId }),
    sealer: new KmsSealer(kmsClient, MFA_KEY_ID),
    mailer: new SesMailer(ses.client, () => mailSender(parsed)),
    clock: { now: () => Date.now() },
    logger,
    issuer: 'https://auth.example.com/',
  };
  const handlers = new Map(
    (Object.keys(endpoints) as EndpointName[]).map((name) => [
      name,
      proxyHandler(endpoints[name], async () => services),
    ]),
  );
  const clients = [db, kmsClient, ses.client] as unknown as { config: { requestHandler: unknown } }[];
  const withFaults = async <T>(rules: FaultRule[], run: () => Promise<T>) => {
    const injections = await Promise.all(clients.map((client) => injectFaults(client, rules)));
    try {
      const result = await run();
      return { result, fired: injections.reduce((sum, injection) => sum + injection.injected.length, 0) };
    } finally {
      for (const injection of injections) await injection.restore();
    }
  };
  return {
    services,
    store,
    ses,
    lines,
    call: (endpoint, event) => (handlers.get(endpoint) as ReturnType<typeof proxyHandler>)(event),
    withFaults,
    async countCalls(run) {
      const injections = await Promise.all(clients.map((client) => injectFaults(client, [])));
      try {
        await run();
      } finally {
        for (const injection of injections) await injection.restore();
      }
      const total = new Map<string, number>();
      for (const injection of injections) {
        for (const [operation, count] of injection.calls)
          total.set(operation, (total.get(operation) ?? 0) + count);
      }
      return total;
    },
    async addUser(username, password) {
      await createUser(services, { realm: 'customers', username, password });
    },
    async close() {
      db.destroy();
      kmsClient.destroy();
      await kms.close();
      await ses.close();
      await store.close();
    },
  };
}
