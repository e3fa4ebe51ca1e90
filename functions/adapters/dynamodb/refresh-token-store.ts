import { isDeepStrictEqual } from 'node:util';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { RefreshFamily, RefreshTokenRecord, RefreshTokenStore } from '../../oauth/ports.ts';
import { conditionalWrite, dynamoCall } from './errors.ts';

export const tokenKey = (tokenHash: string) => ({ pk: `token#${tokenHash}` });
export const familyKey = (familyId: string) => ({ pk: `family#${familyId}` });

/** DynamoDB TTL wants epoch seconds; the records keep milliseconds. */
const ttlSeconds = (epochMs: number) => Math.ceil(epochMs / 1000);

/** A new item, as PutItem and a transaction's Put take it: written only where no item is. */
export interface NewItemPut {
  readonly TableName: string;
  readonly Item: Record<string, unknown>;
  readonly ConditionExpression: string;
}

function newItem(
  tableName: string,
  key: { pk: string },
  record: object,
  absoluteExpiresAt: number,
): NewItemPut {
  return {
    TableName: tableName,
    Item: { ...record, ...key, expires_at: ttlSeconds(absoluteExpiresAt) },
    ConditionExpression: 'attribute_not_exists(pk)',
  };
}

/** A family's first write (also the sign-in's transaction, SignInStore). */
export const newFamily = (tableName: string, family: RefreshFamily) =>
  newItem(tableName, familyKey(family.family_id), family, family.absolute_expires_at);

/** A token's first write (also the sign-in's transaction, SignInStore). */
export const newToken = (tableName: string, token: RefreshTokenRecord) =>
  newItem(tableName, tokenKey(token.token_hash), token, token.absolute_expires_at);

function withoutStorageFields<T>(item: Record<string, unknown>): T {
  const { pk: _pk, expires_at: _ttl, ...record } = item;
  return record as T;
}

/** Refresh token families and tokens in one DynamoDB table, see store-schema.ts. */
export class DynamoRefreshTokenStore implements RefreshTokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async get<T>(key: { pk: string }): Promise<T | undefined> {
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return Item ? withoutStorageFields<T>(Item) : undefined;
  }

  findToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return this.get(tokenKey(tokenHash));
  }

  findFamily(familyId: string): Promise<RefreshFamily | undefined> {
    return this.get(familyKey(familyId));
  }

  private async putNew(put: NewItemPut, record: object): Promise<void> {
    const key = { pk: String(put.Item.pk) };
    const written = await conditionalWrite('PutItem', () => this.db.send(new PutCommand(put)));
    if (written) return;
    // 256-bit random keys do not collide, so the item found is this write's own first try, whose
    // answer was lost and which the SDK sent again. Should a key ever collide, refuse, never overwrite.
    const stored = await this.get<Record<string, unknown>>(key);
    const ours =
      stored !== undefined &&
      Object.entries(record).every(
        ([name, value]) => value === undefined || isDeepStrictEqual(stored[name], value),
      );
    if (!ours) throw new Error(`refresh token store: ${key.pk.split('#')[0]} already exists`);
  }

  createFamily(family: RefreshFamily): Promise<void> {
    return this.putNew(newFamily(this.tableName, family), family);
  }

  putToken(token: RefreshTokenRecord): Promise<void> {
    return this.putNew(newToken(this.tableName, token), token);
  }

  advanceFamily(
    familyId: string,
    change: { from: string; to: string; at: number; successorSeal?: string },
  ): Promise<boolean> {
    const sealed = change.successorSeal !== undefined;
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: familyKey(familyId),
          // Without a seal, an earlier one (from before the leeway was set to 0) is removed.
          UpdateExpression: `SET #current = :to, previous = :from, rotated_at = :at${sealed ? ', successor_seal = :seal' : ' REMOVE successor_seal'}`,
          ConditionExpression: '#current = :from AND revoked = :false',
          ExpressionAttributeNames: { '#current': 'current' },
          ExpressionAttributeValues: {
            ':to': change.to,
            ':from': change.from,
            ':at': change.at,
            ...(sealed ? { ':seal': change.successorSeal } : {}),
            ':false': false,
          },
        }),
      ),
    );
  }

  async revokeFamily(familyId: string, at: number): Promise<void> {
    // A family that is gone (or never was) has nothing left to revoke.
    await conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: familyKey(familyId),
          UpdateExpression: 'SET revoked = :true, revoked_at = if_not_exists(revoked_at, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': true, ':at': at },
        }),
      ),
    );
  }

  async deleteToken(tokenHash: string): Promise<void> {
    await this.delete(tokenKey(tokenHash));
  }

  async deleteFamily(familyId: string): Promise<void> {
    await this.delete(familyKey(familyId));
  }

  private async delete(key: { pk: string }): Promise<void> {
    await dynamoCall('DeleteItem', () =>
      this.db.send(new DeleteCommand({ TableName: this.tableName, Key: key })),
    );
  }
}
