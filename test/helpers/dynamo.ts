import type { AddressInfo } from 'node:net';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { documentClient } from '../../functions/adapters/dynamodb/client.ts';
import { ensureTables, localClientConfig } from '../../functions/local/embedded-store.ts';
import { localTableNames } from '../../functions/store-schema.ts';

export interface TestDynamo {
  readonly db: DynamoDBDocumentClient;
  /** Which engine the suite runs against, for test names. */
  readonly engine: 'dynalite' | 'DynamoDB Local';
  close(): Promise<void>;
}

/**
 * A real DynamoDB-compatible engine for store tests: AWS's DynamoDB Local where DYNAMODB_ENDPOINT
 * points at one (CI), else an in-memory dynalite on a loopback port. Tables come fresh each time.
 */
export async function startTestDynamo(): Promise<TestDynamo> {
  const external = process.env.DYNAMODB_ENDPOINT;
  if (external) {
    const db = documentClient(localClientConfig(external));
    await Promise.all(
      Object.values(localTableNames).map((TableName) =>
        db.send(new DeleteTableCommand({ TableName })).catch(() => undefined),
      ),
    );
    await ensureTables(db);
    return { db, engine: 'DynamoDB Local', close: async () => db.destroy() };
  }
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const db = documentClient(localClientConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  await ensureTables(db);
  return {
    db,
    engine: 'dynalite',
    async close() {
      db.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
