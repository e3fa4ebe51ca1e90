import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { contentionError, dynamoCall } from './errors.ts';

/** Times BatchGetItem is asked again for keys it left unprocessed, before a 503. */
const MAX_BATCH_ROUNDS = 4;

/**
 * Items by table and key (`pk`), in one strongly consistent BatchGetItem over one or more tables;
 * keys absent from a table's map have no item. Keys the service left unprocessed (under
 * throttling) are asked for again. `what` names the read in a contention error.
 */
export async function consistentBatchGet(
  db: DynamoDBDocumentClient,
  keys: Readonly<Record<string, readonly string[]>>,
  what: string,
): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const found = new Map(
    Object.keys(keys).map((table) => [table, new Map<string, Record<string, unknown>>()]),
  );
  let pending = Object.fromEntries(
    Object.entries(keys).map(([table, pks]) => [
      table,
      { Keys: pks.map((pk) => ({ pk })), ConsistentRead: true },
    ]),
  );
  for (let round = 0; Object.keys(pending).length > 0; round += 1) {
    if (round === MAX_BATCH_ROUNDS) throw contentionError('BatchGetItem', what);
    const { Responses, UnprocessedKeys } = await dynamoCall('BatchGetItem', () =>
      db.send(new BatchGetCommand({ RequestItems: pending })),
    );
    for (const [table, items] of Object.entries(Responses ?? {})) {
      for (const item of items) found.get(table)?.set(String(item.pk), item);
    }
    pending = Object.fromEntries(
      Object.entries(UnprocessedKeys ?? {}).filter(([, unprocessed]) => (unprocessed.Keys?.length ?? 0) > 0),
    ) as typeof pending;
  }
  return found;
}
