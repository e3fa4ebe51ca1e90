import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../adapters/dynamodb/client.ts';
import { localTableNames, type TableDefinition, type TableNames, tables } from '../store-schema.ts';
import {
  type EngineRequest,
  type EngineResponse,
  inProcessRequestHandler,
  inProcessSigner,
} from './in-process-transport.ts';

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
 * Starts dynalite (a DynamoDB-compatible engine on LevelDB) persisted under the data dir, in a
 * thread of its own (store-thread.mjs), on a loopback port that is recorded in the data dir so the
 * CLI can reach the same store while the server runs: LevelDB allows one process per directory.
 */
export async function startEmbeddedStore(dataDir: string): Promise<LocalStore> {
  const thread = new Worker(new URL('./store-thread.mjs', import.meta.url), { workerData: { dataDir } });
  const pending = new Map<number, PendingCall>();
  const endpoint = await new Promise<string>((resolve, reject) => {
    thread.once('error', reject);
    thread.once('exit', () => reject(new Error('the embedded store stopped while starting')));
    thread.on('message', (message: ThreadMessage) => {
      if ('ready' in message) resolve(message.ready);
      else if ('failed' in message) reject(new Error(message.failed));
      else settle(pending, message);
    });
  }).catch(async (error) => {
    await thread.terminate();
    throw error;
  });
  thread.removeAllListeners('error');
  thread.removeAllListeners('exit');
  const stopped = new Promise<void>((resolve) =>
    thread.once('exit', () => {
      // Were the thread to die, every call in flight fails as a lost connection does (503).
      const gone = Object.assign(new Error('the embedded store stopped'), { code: 'ECONNRESET' });
      for (const call of pending.values()) call.reject(gone);
      pending.clear();
      resolve();
    }),
  );
  let nextId = 0;
  const db = documentClient({
    ...localClientConfig(endpoint),
    requestHandler: inProcessRequestHandler(
      (request) =>
        new Promise((resolve, reject) => {
          const id = nextId++;
          pending.set(id, { resolve, reject });
          thread.postMessage({ id, request } satisfies ServerMessage);
        }),
    ),
    signer: inProcessSigner,
  });
  const close = async () => {
    db.destroy();
    thread.postMessage('close' satisfies ServerMessage);
    await stopped;
  };
  try {
    await ensureTables(db);
  } catch (error) {
    await close();
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
      await close();
    },
  };
}

/** Messages of the engine's thread (store-thread.mjs): started (its endpoint), failed, or an answer. */
type ThreadMessage =
  | { readonly ready: string }
  | { readonly failed: string }
  | { readonly id: number; readonly response: EngineResponse };

/** A request to the engine's thread, or the order to close the store. */
type ServerMessage = { readonly id: number; readonly request: EngineRequest } | 'close';

interface PendingCall {
  resolve(response: EngineResponse): void;
  reject(error: unknown): void;
}

function settle(pending: Map<number, PendingCall>, message: { id: number; response: EngineResponse }) {
  pending.get(message.id)?.resolve(message.response);
  pending.delete(message.id);
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
