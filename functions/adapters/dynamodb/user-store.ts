import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type NewUser,
  UserExistsError,
  UserNotFoundError,
  type UserRecord,
  type UserStore,
} from '../../oauth/ports.ts';
import { dynamoCall, isConditionalCheckFailed, translateDynamoError } from './errors.ts';

const userKey = (realm: string, usernameKey: string) => ({ pk: `${realm}#${usernameKey}` });
const userRef = (realm: string, userId: string) => `${realm}#${userId}`;

type StoredUser = UserRecord & { pk: string; user_ref: string };

function toRecord(item: Record<string, unknown>): UserRecord {
  const { pk: _pk, user_ref: _ref, ...user } = item as unknown as StoredUser;
  return user;
}

/** Users in DynamoDB: one item per (realm, normalised username), see store-schema.ts. */
export class DynamoUserStore implements UserStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findByUsername(realm: string, usernameKey: string): Promise<UserRecord | undefined> {
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.tableName, Key: userKey(realm, usernameKey), ConsistentRead: true }),
      ),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async findById(realm: string, userId: string): Promise<UserRecord | undefined> {
    const { Items } = await dynamoCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'by-user-id',
          KeyConditionExpression: 'user_ref = :ref',
          ExpressionAttributeValues: { ':ref': userRef(realm, userId) },
        }),
      ),
    );
    const key = Items?.[0]?.pk as string | undefined;
    if (!key) return undefined;
    // The index is eventually consistent: confirm on the table with a strongly consistent read.
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: key }, ConsistentRead: true })),
    );
    return Item && Item.user_id === userId ? toRecord(Item) : undefined;
  }

  async create(user: NewUser): Promise<UserRecord> {
    const record: UserRecord = { ...user, updated_at: user.created_at, logins_count: 0 };
    const item: StoredUser = {
      ...record,
      ...userKey(user.realm, user.username_key),
      user_ref: userRef(user.realm, user.user_id),
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new UserExistsError();
      throw translateDynamoError(error, 'PutItem');
    }
    return record;
  }

  async recordLogin(user: UserRecord, at: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(user.realm, user.username_key),
          UpdateExpression: 'SET last_login = :at ADD logins_count :one',
          // Only the same user: never resurrect a deleted one or count for a re-created namesake.
          ConditionExpression: 'user_id = :id',
          ExpressionAttributeValues: { ':at': at, ':one': 1, ':id': user.user_id },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw translateDynamoError(error, 'UpdateItem');
    }
  }

  private async update(
    realm: string,
    usernameKey: string,
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<UserRecord> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(realm, usernameKey),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(pk)',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new UserNotFoundError();
      throw translateDynamoError(error, 'UpdateItem');
    }
  }

  setPassword(realm: string, usernameKey: string, passwordHash: string, at: string): Promise<UserRecord> {
    return this.update(
      realm,
      usernameKey,
      // One write changes the password and ends the sessions: no crash can separate the two.
      'SET password_hash = :hash, updated_at = :at ADD session_epoch :one',
      {},
      { ':hash': passwordHash, ':at': at, ':one': 1 },
    );
  }

  setBlocked(realm: string, usernameKey: string, blocked: boolean, at: string): Promise<UserRecord> {
    return this.update(
      realm,
      usernameKey,
      // Blocking ends the sessions in the same write; unblocking starts afresh (a new login).
      'SET blocked = :blocked, updated_at = :at ADD session_epoch :one',
      {},
      { ':blocked': blocked, ':at': at, ':one': 1 },
    );
  }

  setPermissions(
    realm: string,
    usernameKey: string,
    api: string,
    scopes: readonly string[],
    at: string,
  ): Promise<UserRecord> {
    return this.update(
      realm,
      usernameKey,
      'SET #permissions.#api = :scopes, updated_at = :at',
      { '#permissions': 'permissions', '#api': api },
      { ':scopes': [...scopes], ':at': at },
    );
  }

  async delete(realm: string, usernameKey: string): Promise<UserRecord> {
    try {
      const { Attributes } = await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: userKey(realm, usernameKey),
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new UserNotFoundError();
      throw translateDynamoError(error, 'DeleteItem');
    }
  }

  /** An operator's listing: a paginated Scan filtered to the realm (no hot per-realm partition). */
  async *list(realm: string): AsyncIterable<UserRecord> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamoCall('Scan', () =>
        this.db.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: 'realm = :realm',
            ExpressionAttributeValues: { ':realm': realm },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) yield toRecord(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
