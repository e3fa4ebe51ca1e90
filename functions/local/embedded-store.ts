import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { documentClient } from '../adapters/dynamodb/client.ts';
import { localTableNames, type TableDefinition, type TableNames, tables } from '../store-schema.ts';
import { inProcessRequestHandler, inProcessSigner } from './in-process-transport.ts';
import { withTransactions } from './transactions.ts';

/** Where a running local server records the loopback port of its embedded engine. */
const ENDPOINT_FILE = 'store-endpoint.json';

export interface LocalStore {
  readonly endpoint: string;
  readonly db: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * The embedded engine needs no real credentials; the SDK still wants some. Letters only: DynamoDB
 * Local refuses access key ids with other characters.
 */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'passgatelocal', secretAccessKey: 'passgatelocal' },
    maxAttempts: 3,
  };
}

/**
 * Starts dynalite (a DynamoDB-compatible engine on LevelDB) persisted under the data dir, on a
 * loopback port that is recorded in the data dir so the CLI can reach the same store while the
 * server runs: LevelDB allows one process per directory.
 */
export async function startEmbeddedStore(dataDir: string): Promise<LocalStore> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The store holds password hashes in LevelDB files made with the umask: a data dir someone
  // created beforehand (755, say) is closed to other users here, as a new one is created.
  chmodSync(dataDir, 0o700);
  // The store's own directory too, so that moving or sharing it alone does not open it up.
  const storeDir = join(dataDir, 'store');
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  chmodSync(storeDir, 0o700);
  await claimStore(storeDir, dataDir);
  const server = dynalite({
    path: storeDir,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  // This process talks to the engine directly; the endpoint serves other processes (the CLI).
  // Both reach it through the one transaction emulation (transactions.ts), which holds its lock.
  const listener = withTransactions(server.listeners('request')[0] as RequestListener);
  server.removeAllListeners('request');
  server.on('request', refusingBrowsers(listener, port));
  const db = documentClient({
    ...localClientConfig(endpoint),
    requestHandler: inProcessRequestHandler(listener),
    signer: inProcessSigner,
  });
  try {
    await ensureTables(db);
  } catch (error) {
    db.destroy();
    await new Promise((resolve) => server.close(resolve));
    throw error;
  }
  writeFileSync(join(dataDir, ENDPOINT_FILE), JSON.stringify({ endpoint, pid: process.pid }), {
    mode: 0o600,
  });
  return {
    endpoint,
    db,
    async close() {
      rmSync(join(dataDir, ENDPOINT_FILE), { force: true });
      db.destroy();
      server.closeAllConnections?.();
      // dynalite closes its LevelDB store with the server, releasing the data dir's lock.
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * dynalite verifies no signature and answers any origin's CORS preflight with `*`, so a web page
 * the developer visits could read and write the store through its loopback port (or through DNS
 * rebinding). The SDK clients that use the port (the CLI, the Lambda bundles in tests) send no
 * `Origin` and name the loopback host; browsers always send `Origin` with a cross-origin or POST
 * request and cannot forge `Host`. Anything else is refused before dynalite sees it.
 */
function refusingBrowsers(listener: RequestListener, port: number): RequestListener {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  return (request, response) => {
    if (request.headers.origin === undefined && hosts.has(request.headers.host ?? '')) {
      listener(request, response);
      return;
    }
    response.writeHead(403, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ message: 'passgate: the embedded store serves only local SDK clients' }));
  };
}

/** The LevelDB binding dynalite opens the store with (its own dependency, at its version). */
const dynaliteLevel = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as {
  Level: new (path: string) => { open(): Promise<void>; close(): Promise<void> };
};

/**
 * LevelDB lets one process open a directory. dynalite opens it on its first request and throws a
 * failure to do so out of its request callback, where nothing can catch it (a crash with a stack
 * trace): the lock is tried here first, so a data dir in use is one clear error.
 */
async function claimStore(path: string, dataDir: string): Promise<void> {
  const probe = new dynaliteLevel.Level(path);
  try {
    await probe.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new Error(`the data dir ${dataDir} is in use by another passgate process`);
    }
    throw error;
  }
  await probe.close();
}

/** The endpoint of the store a running local server holds, if one is alive. */
export function runningStoreEndpoint(dataDir: string): string | undefined {
  try {
    const { endpoint, pid } = JSON.parse(readFileSync(join(dataDir, ENDPOINT_FILE), 'utf8'));
    process.kill(pid, 0); // throws when that process is gone
    return endpoint;
  } catch {
    return undefined;
  }
}

/**
 * The CLI's store: the running server's when there is one, else its own embedded engine. A
 * recorded server that no longer listens (killed, its pid since reused, as in containers) counts
 * as none: the store's own lock then tells whether another process really holds the data dir.
 */
export async function openLocalStore(dataDir: string): Promise<LocalStore> {
  const endpoint = runningStoreEndpoint(dataDir);
  if (!endpoint || !(await listening(endpoint))) return startEmbeddedStore(dataDir);
  const db = documentClient(localClientConfig(endpoint));
  return { endpoint, db, close: async () => db.destroy() };
}

function listening(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function createTableInput(table: TableDefinition, tableName: string) {
  const keys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
  const indexKeys = table.globalIndexes.flatMap((index) => [
    index.partitionKey,
    ...(index.sortKey ? [index.sortKey] : []),
  ]);
  const attributes = new Map([...keys, ...indexKeys].map((key) => [key.name, key.type]));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: table.partitionKey.name, KeyType: 'HASH' as const },
      ...(table.sortKey ? [{ AttributeName: table.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    ...(table.globalIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.globalIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
              ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
            ],
            Projection:
              typeof index.projection === 'string'
                ? { ProjectionType: index.projection }
                : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.projection.include] },
          })),
        }
      : {}),
  };
}

/**
 * Creates the tables of store-schema.ts that do not exist yet (under other names in tests), and
 * waits until they take writes. Neither dynalite nor the local server needs TTL: expiry is checked
 * on every read, TTL only sweeps.
 */
export async function ensureTables(
  db: DynamoDBDocumentClient,
  tableNames: TableNames = localTableNames,
): Promise<void> {
  for (const table of tables) {
    try {
      await db.send(new CreateTableCommand(createTableInput(table, tableNames[table.id])));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    // dynalite answers CreateTable with CREATING and turns ACTIVE on a timer; until then every
    // read or write of the table fails with ResourceNotFoundException.
    const TableName = tableNames[table.id];
    for (let wait = 0; ; wait++) {
      const { Table } = await db.send(new DescribeTableCommand({ TableName }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (wait === 500) throw new Error(`table ${TableName} did not become ACTIVE`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
