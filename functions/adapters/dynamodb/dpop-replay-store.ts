import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DpopReplayStore } from '../../oauth/ports.ts';
import { conditionalWrite, dynamoCall } from './errors.ts';

/** Used DPoP proofs in their own table with TTL, see store-schema.ts. */
export class DynamoDpopReplayStore implements DpopReplayStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(proofKey: string, times: { now: number; expiresAt: number }): Promise<boolean> {
    const key = { pk: `proof#${proofKey}` };
    // Marks this write as ours: when its answer is lost and the SDK sends it again, the retry meets
    // the first try's item, which is no replay.
    const claimId = randomUUID();
    const written = await conditionalWrite('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, claim_id: claimId, expires_at: times.expiresAt },
          // TTL sweeps within days, not at once: an item past its expiry no longer counts.
          ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :now',
          ExpressionAttributeValues: { ':now': times.now },
        }),
      ),
    );
    if (written) return true;
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return Item?.claim_id === claimId;
  }
}
