import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../oauth/ports.ts';
import { conditionalWrite, dynamoCall } from './errors.ts';

/**
 * Fixed-window counters in the attempts table (`rl#…` items, store-schema.ts). The limit is the
 * write's own condition, so parallel requests cannot all pass one read; `ids` keeps the requests
 * counted, so a write retried after its answer was lost counts once. A window holds at most
 * `limit` ids, and expires (TTL) when it ends.
 */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(key: string, window: { endsAt: number; limit: number; id: string }): Promise<boolean> {
    const pk = `rl#${key}#${window.endsAt}`;
    const written = await conditionalWrite('UpdateItem (rate limit)', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk },
          UpdateExpression: 'SET expires_at = :ends ADD #count :one, ids :ids',
          ConditionExpression: '(attribute_not_exists(#count) OR #count < :limit) AND NOT contains(ids, :id)',
          // COUNT is a DynamoDB reserved word.
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: {
            ':ends': window.endsAt,
            ':one': 1,
            ':ids': new Set([window.id]),
            ':limit': window.limit,
            ':id': window.id,
          },
        }),
      ),
    );
    if (written) return true;
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true })),
    );
    return (Item?.ids as Set<string> | undefined)?.has(window.id) === true; // an earlier try landed
  }
}
