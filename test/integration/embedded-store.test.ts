import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { documentClient } from '../../functions/adapters/dynamodb/client.ts';
import {
  localClientConfig,
  openLocalStore,
  startEmbeddedStore,
} from '../../functions/local/embedded-store.ts';
import { localTableNames } from '../../functions/store-schema.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'passgate-store-'));
  dirs.push(dir);
  return join(dir, 'data');
};

describe('the embedded store of local mode', () => {
  it('refuses a data dir another process holds with one clear error, then opens once it is free', async () => {
    const dir = dataDir();
    const first = await startEmbeddedStore(dir);
    await expect(startEmbeddedStore(dir)).rejects.toThrow(
      new Error(`the data dir ${dir} is in use by another passgate process`),
    );
    await first.close();
    const again = await startEmbeddedStore(dir);
    await again.close();
  });

  it('opens the store itself when the recorded server no longer listens (its pid reused)', async () => {
    const dir = dataDir();
    mkdirSync(dir, { recursive: true });
    // A live pid (this process) with a port nothing listens on: what a SIGKILL leaves in a container.
    writeFileSync(
      join(dir, 'store-endpoint.json'),
      JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: process.pid }),
    );
    const store = await openLocalStore(dir);
    try {
      expect(store.endpoint).not.toBe('http://127.0.0.1:1');
      expect((await store.db.send(new ListTablesCommand({}))).TableNames?.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('closes a data dir made beforehand to other users: it holds password hashes', async () => {
    const dir = dataDir();
    mkdirSync(dir, { mode: 0o755 });
    const store = await startEmbeddedStore(dir);
    await store.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'store')).mode & 0o777).toBe(0o700);
  });

  it('answers a transaction all or nothing, never seen half applied by other requests, over HTTP too', async () => {
    const store = await startEmbeddedStore(dataDir());
    const overHttp = documentClient(localClientConfig(store.endpoint));
    try {
      const TableName = localTableNames.attempts;
      const add = (pk: string, condition?: string) => ({
        Update: {
          TableName,
          Key: { pk },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': 1 },
          ...(condition ? { ConditionExpression: condition } : {}),
        },
      });
      const n = async (pk: string) =>
        (await store.db.send(new GetCommand({ TableName, Key: { pk }, ConsistentRead: true }))).Item?.n;
      // A condition that fails cancels the whole transaction, with a reason per action.
      const cancelled = await store.db
        .send(new TransactWriteCommand({ TransactItems: [add('a'), add('b', 'attribute_exists(pk)')] }))
        .catch((error: Error & { CancellationReasons?: { Code: string }[] }) => error);
      expect(cancelled).toMatchObject({
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      });
      expect([await n('a'), await n('b')]).toEqual([undefined, undefined]);
      // Many at once, from this process and over HTTP, with reads among them: a read sees both
      // items of a transaction or neither.
      const pairs = Array.from({ length: 12 }, (_, i) => [`x${i}`, `y${i}`] as const);
      const seen = await Promise.all(
        pairs.flatMap(([a, b], i) => {
          const client = i % 2 === 0 ? store.db : overHttp;
          return [
            client.send(new TransactWriteCommand({ TransactItems: [add(a), add(b)] })).then(() => 2),
            client
              .send(
                new BatchGetCommand({
                  RequestItems: { [TableName]: { Keys: [{ pk: a }, { pk: b }], ConsistentRead: true } },
                }),
              )
              .then(({ Responses }) => Responses?.[TableName]?.length ?? 0),
          ];
        }),
      );
      for (const count of seen) expect([0, 2]).toContain(count);
      for (const [a, b] of pairs) expect([await n(a), await n(b)]).toEqual([1, 1]);
      // Other actions than the sign-in's are refused, not half emulated.
      await expect(
        store.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName,
                  Key: { pk: 'a' },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        ),
      ).rejects.toThrow(/emulates transactions of Put, Update and Delete actions only/);
    } finally {
      overHttp.destroy();
      await store.close();
    }
  });
});
