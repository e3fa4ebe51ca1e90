import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AttemptStore } from '../../oauth/ports.ts';
import { isConditionalCheckFailed, translateDynamoError } from './errors.ts';

/** Brute-force counters in DynamoDB: single-item atomic writes only (see store-schema.ts). */
export class DynamoAttemptStore implements AttemptStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async failures(key: string, now: number): Promise<number> {
    try {
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: key }, ConsistentRead: true }),
      );
      // TTL deletion is lazy (and absent in dynalite): expiry is decided here, on read.
      return Item && Number(Item.expires_at) > now ? Number(Item.failures) : 0;
    } catch (error) {
      throw translateDynamoError(error, 'GetItem');
    }
  }

  async addFailure(key: string, expiresAt: number, now: number, userRef?: string): Promise<number> {
    const tag = userRef === undefined ? {} : { ':ref': userRef };
    // Two single-item steps that race safely: count on a live counter, else start a fresh one.
    // A lost race on either step means another request moved first; trying again stays exact.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: key },
            UpdateExpression: `ADD failures :one SET expires_at = :expires${userRef === undefined ? '' : ', user_ref = :ref'}`,
            ConditionExpression: 'expires_at > :now',
            ExpressionAttributeValues: { ':one': 1, ':expires': expiresAt, ':now': now, ...tag },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return Number(Attributes?.failures);
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw translateDynamoError(error, 'UpdateItem');
      }
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk: key,
              failures: 1,
              expires_at: expiresAt,
              ...(userRef === undefined ? {} : { user_ref: userRef }),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expires_at <= :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return 1;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw translateDynamoError(error, 'PutItem');
      }
    }
    throw translateDynamoError(
      Object.assign(new Error('counter contention'), { name: 'ThrottlingException' }),
      'UpdateItem',
    );
  }

  async reset(key: string): Promise<void> {
    try {
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: key } }));
    } catch (error) {
      throw translateDynamoError(error, 'DeleteItem');
    }
  }

  async resetUser(userRef: string): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      let page: QueryCommandOutput;
      try {
        page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'by-user',
            KeyConditionExpression: 'user_ref = :ref',
            ExpressionAttributeValues: { ':ref': userRef },
            ExclusiveStartKey: startKey,
          }),
        );
      } catch (error) {
        throw translateDynamoError(error, 'Query');
      }
      await Promise.all((page.Items ?? []).map((item) => this.reset(String(item.pk))));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
