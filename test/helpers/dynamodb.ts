import { randomBytes } from 'node:crypto';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { documentClient } from '../../functions/adapters/dynamodb/client.ts';
import { dynamoStores } from '../../functions/adapters/dynamodb/stores.ts';
import { LocalSealer } from '../../functions/adapters/sealing/local-sealer.ts';
import { LocalSigner } from '../../functions/adapters/signing/local-signer.ts';
import type { TenantConfig } from '../../functions/config/schema.ts';
import { ensureTables, localClientConfig } from '../../functions/local/embedded-store.ts';
import { withTransactions } from '../../functions/local/transactions.mjs';
import { silentLogger } from '../../functions/logging.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { type TableNames, tables } from '../../functions/store-schema.ts';
import { FixedClock, RecordingHasher, RecordingMailer } from './memory-ports.ts';

export interface TestStore {
  /** Which engine the suite runs against: in-memory dynalite, or `DYNAMODB_ENDPOINT` (DynamoDB Local in CI). */
  readonly engine: string;
  readonly endpoint: string;
  readonly db: DynamoDBDocumentClient;
  /** Tables of this suite alone, so suites can share one engine. */
  readonly names: TableNames;
  close(): Promise<void>;
}

/**
 * A real DynamoDB engine for the store suites: the one at `DYNAMODB_ENDPOINT` when it is set (the
 * CI run against DynamoDB Local), otherwise an in-memory dynalite on a loopback port.
 */
export async function openTestStore(): Promise<TestStore> {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const names = Object.fromEntries(tables.map((table) => [table.id, `${prefix}-${table.id}`])) as TableNames;
  const external = process.env.DYNAMODB_ENDPOINT;
  let server: Server | undefined;
  let endpoint: string;
  if (external) {
    endpoint = external;
  } else {
    const engine = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    // As the embedded store serves it: with the one transaction it emulates.
    const listener = withTransactions(engine.listeners('request')[0] as RequestListener);
    engine.removeAllListeners('request');
    engine.on('request', listener);
    server = engine;
    await new Promise<void>((resolve, reject) => {
      engine.once('error', reject);
      engine.listen(0, '127.0.0.1', () => resolve());
    });
    endpoint = `http://127.0.0.1:${(engine.address() as AddressInfo).port}`;
  }
  const db = documentClient(localClientConfig(endpoint));
  await ensureTables(db, names);
  return {
    engine: external ? `DynamoDB at ${external}` : 'dynalite',
    endpoint,
    db,
    names,
    async close() {
      db.destroy();
      if (server) {
        server.closeAllConnections?.();
        await new Promise((resolve) => server?.close(resolve));
      }
    },
  };
}

/**
 * The protocol layer's services over a test store's tables: the real DynamoDB adapters, with the
 * test hasher (`plain:` hashes), local sealing and signing (the key kept in `keyDir`), a fixed clock.
 */
export async function engineServices(
  store: TestStore,
  config: TenantConfig,
  keyDir: string,
  clock = new FixedClock(),
): Promise<Services> {
  return {
    config,
    ...dynamoStores(store.db, store.names),
    counterHashKey: Buffer.alloc(32, 7),
    hasher: new RecordingHasher(),
    sealer: new LocalSealer(Buffer.alloc(32, 5)),
    signer: await LocalSigner.fromDataDir(keyDir),
    mailer: new RecordingMailer(),
    clock,
    logger: silentLogger,
    issuer: 'https://auth.example.com/',
  };
}
