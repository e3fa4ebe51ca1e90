import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  FamilyRotation,
  RefreshFamily,
  RefreshTokenRecord,
  RefreshTokenStore,
  UserRecord,
} from '../../oauth/ports.ts';
import { consistentBatchGet } from './batch-get.ts';
import { conditionalWrite, dynamoCall } from './errors.ts';
import { toRecord, userKey } from './user-store.ts';

const tokenKey = (tokenHash: string) => ({ pk: `token#${tokenHash}` });
export const familyKey = (familyId: string) => ({ pk: `family#${familyId}` });

/** The fields a rotation sets (or removes), in the order they are written. */
const ROTATION_FIELDS = [
  'current',
  'idle_expires_at',
  'secret_hash',
  'previous',
  'rotated_at',
  'successor_seal',
] as const satisfies readonly (keyof FamilyRotation)[];

/** DynamoDB TTL wants epoch seconds; the records keep milliseconds. */
const ttlSeconds = (epochMs: number) => Math.ceil(epochMs / 1000);

/** A new item, as PutItem and a transaction's Put take it: written only where no item is. */
export interface NewItemPut {
  readonly TableName: string;
  readonly Item: Record<string, unknown>;
  readonly ConditionExpression: string;
}

/** A session's one write, its family (also the sign-in's transaction, SignInStore). */
export function newFamily(tableName: string, family: RefreshFamily): NewItemPut {
  return {
    TableName: tableName,
    Item: { ...family, ...familyKey(family.family_id), expires_at: ttlSeconds(family.absolute_expires_at) },
    ConditionExpression: 'attribute_not_exists(pk)',
  };
}

function withoutStorageFields<T>(item: Record<string, unknown>): T {
  const { pk: _pk, expires_at: _ttl, ...record } = item;
  return record as T;
}

/**
 * Refresh token families and tokens in one DynamoDB table, see store-schema.ts; the users' table
 * is read beside a family only (findFamilyAndUser).
 */
export class DynamoRefreshTokenStore implements RefreshTokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly usersTableName: string,
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

  async findFamilyAndUser(
    familyId: string,
    user: { realm: string; username_key: string },
  ): Promise<{ family?: RefreshFamily; user?: UserRecord }> {
    const familyPk = familyKey(familyId).pk;
    const userPk = userKey(user.realm, user.username_key).pk;
    const found = await consistentBatchGet(
      this.db,
      { [this.tableName]: [familyPk], [this.usersTableName]: [userPk] },
      'refresh token family and user read',
    );
    const family = found.get(this.tableName)?.get(familyPk);
    const stored = found.get(this.usersTableName)?.get(userPk);
    return {
      family: family && withoutStorageFields<RefreshFamily>(family),
      user: stored && toRecord(stored),
    };
  }

  rotateFamily(familyId: string, from: string, rotation: FamilyRotation): Promise<boolean> {
    // Every field of a rotation is written: those it leaves out are removed (a seal from before the
    // leeway was set to 0, say), so an undo puts back exactly the state it read.
    const fields = ROTATION_FIELDS.map((name) => [name, rotation[name]] as const);
    const set = fields.filter(([, value]) => value !== undefined);
    const removed = fields.filter(([, value]) => value === undefined).map(([name]) => `#${name}`);
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: familyKey(familyId),
          UpdateExpression: `SET ${set.map(([name]) => `#${name} = :${name}`).join(', ')}${
            removed.length > 0 ? ` REMOVE ${removed.join(', ')}` : ''
          }`,
          ConditionExpression: '#current = :from AND revoked = :false',
          ExpressionAttributeNames: Object.fromEntries(fields.map(([name]) => [`#${name}`, name])),
          ExpressionAttributeValues: {
            ...Object.fromEntries(set.map(([name, value]) => [`:${name}`, value])),
            ':from': from,
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
}
