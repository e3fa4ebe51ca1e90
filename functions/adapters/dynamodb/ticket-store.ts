import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TicketRecord, TicketStore } from '../../oauth/ports.ts';
import { conditionalWrite, dynamoCall } from './errors.ts';

const ticketKey = (tokenHash: string) => ({ pk: `ticket#${tokenHash}` });

/** The tickets of single-use mail links in their own table with TTL, see store-schema.ts. */
export class DynamoTicketStore implements TicketStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(ticket: TicketRecord): Promise<void> {
    await dynamoCall('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...ticketKey(ticket.token_hash),
            ...ticket,
            expires_at_seconds: Math.ceil(ticket.expires_at / 1000),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async find(tokenHash: string, now: number): Promise<TicketRecord | undefined> {
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.tableName, Key: ticketKey(tokenHash), ConsistentRead: true }),
      ),
    );
    // TTL sweeps within days, not at once: expiry is decided here, on read.
    if (!Item || Item.spent_by !== undefined || Number(Item.expires_at) <= now) return undefined;
    const { pk: _pk, expires_at_seconds: _ttl, ...ticket } = Item;
    return ticket as TicketRecord;
  }

  spend(tokenHash: string): Promise<boolean> {
    // Marked, not deleted, so that the SDK's retry of this very write (its answer lost) finds its
    // own mark and succeeds, while any other request's spend fails; TTL removes the item later.
    const writer = randomUUID();
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ticketKey(tokenHash),
          UpdateExpression: 'SET spent_by = :writer',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(spent_by) OR spent_by = :writer)',
          ExpressionAttributeValues: { ':writer': writer },
        }),
      ),
    );
  }
}
