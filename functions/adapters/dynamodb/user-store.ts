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
  type LoginLookup,
  type NewUser,
  type RealmHashCostClasses,
  UserExistsError,
  UserNotFoundError,
  type UserRecord,
  type UserStore,
} from '../../oauth/ports.ts';
import { consistentBatchGet } from './batch-get.ts';
import { conditionalWrite, dynamoCall, isConditionalCheckFailed, translateDynamoError } from './errors.ts';

export const userKey = (realm: string, usernameKey: string) => ({ pk: `${realm}#${usernameKey}` });
const userRef = (realm: string, userId: string) => `${realm}#${userId}`;
/**
 * A realm's hash cost classes live in one item beside its users. No realm name starts with `#`,
 * so the key is no user's; the item has no `realm` or `user_ref`, so listings and the index skip it.
 */
const costClassesKey = (realm: string) => ({ pk: `#hash-costs#${realm}` });
/** An address's claim (UserStore.claimEmail): like the cost classes' item, no user's key and no `realm`. */
const emailClaimKey = (realm: string, emailKey: string) => ({ pk: `#email#${realm}#${emailKey}` });

type StoredUser = UserRecord & { pk: string; user_ref: string };

/**
 * recordLogin's receipts: recent login ids, one attribute per slot, the slot picked by the id, so
 * that a count can be taken back (forgetLogin) and a retried count can tell that its first try
 * landed.
 */
const RECEIPTS = 8;
const receiptSlot = (slot: number) => `login_receipt_${slot}`;
const slotOf = (loginId: string) =>
  [...loginId].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) >>> 0, 0) % RECEIPTS;

const costClassesOf = (item: Record<string, unknown> | undefined): RealmHashCostClasses => ({
  classes: [...((item?.classes as Set<string> | undefined) ?? [])],
  version: (item?.version as number | undefined) ?? 0,
});

/** The MFA attributes (mfa-store.ts) other than `mfa_active`: never part of a UserRecord. */
export const MFA_ATTRIBUTE = /^mfa_(?!active$)/;

export function toRecord(item: Record<string, unknown>): UserRecord {
  const { pk: _pk, user_ref: _ref, ...user } = item as unknown as StoredUser;
  for (let slot = 0; slot < RECEIPTS; slot += 1) delete (user as Record<string, unknown>)[receiptSlot(slot)];
  for (const name of Object.keys(user))
    if (MFA_ATTRIBUTE.test(name)) delete (user as Record<string, unknown>)[name];
  return user;
}

/** One update of a user item, as UpdateItem and a transaction's Update both take it. */
export interface UserUpdate {
  readonly TableName: string;
  readonly Key: { pk: string };
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * Counts a successful login (SignInStore). One ADD, so logins of one user at the same moment do not
 * overwrite each other. The write leaves its id in its receipt slot, where `forgetLogin` finds it.
 * Only the same user: never resurrect a deleted one or count for a re-created namesake.
 */
export function recordLogin(tableName: string, user: UserRecord, at: string, loginId: string): UserUpdate {
  return {
    TableName: tableName,
    Key: userKey(user.realm, user.username_key),
    UpdateExpression: 'SET last_login = :at, #receipt = :login ADD logins_count :one',
    ConditionExpression: 'user_id = :id AND (attribute_not_exists(#receipt) OR #receipt <> :login)',
    ExpressionAttributeNames: { '#receipt': receiptSlot(slotOf(loginId)) },
    ExpressionAttributeValues: { ':at': at, ':one': 1, ':login': loginId, ':id': user.user_id },
  };
}

/**
 * Takes back the count of login `loginId` and puts `last_login` back to `previous`, only while its
 * receipt is there: a retry, or a count that never landed, finds none. A login of the same user
 * that landed in between has its last_login replaced by the earlier one; the count stays exact.
 */
export function forgetLogin(
  tableName: string,
  user: UserRecord,
  loginId: string,
  previous: string | undefined,
): UserUpdate {
  return {
    TableName: tableName,
    Key: userKey(user.realm, user.username_key),
    UpdateExpression: `${previous === undefined ? 'REMOVE last_login, #receipt' : 'SET last_login = :previous REMOVE #receipt'} ADD logins_count :minusOne`,
    ConditionExpression: 'user_id = :id AND #receipt = :login',
    ExpressionAttributeNames: { '#receipt': receiptSlot(slotOf(loginId)) },
    ExpressionAttributeValues: {
      ':minusOne': -1,
      ':login': loginId,
      ':id': user.user_id,
      ...(previous === undefined ? {} : { ':previous': previous }),
    },
  };
}

/** Users in DynamoDB: one item per (realm, normalised username), see store-schema.ts. */
export class DynamoUserStore implements UserStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findByUsername(realm: string, usernameKey: string): Promise<UserRecord | undefined> {
    const Item = await this.storedItem(userKey(realm, usernameKey));
    return Item ? toRecord(Item) : undefined;
  }

  async findForLogin(realm: string, usernameKey: string | undefined): Promise<LoginLookup> {
    const userPk = usernameKey === undefined ? undefined : userKey(realm, usernameKey).pk;
    const items = await this.storedItems([costClassesKey(realm).pk, ...(userPk ? [userPk] : [])]);
    const user = userPk === undefined ? undefined : items.get(userPk);
    return {
      user: user && toRecord(user),
      costClasses: costClassesOf(items.get(costClassesKey(realm).pk)),
    };
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
    const Item = await this.storedItem({ pk: key });
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

  async upsert(user: NewUser): Promise<'created' | 'updated'> {
    // Profile and password from the import; identity, history and permissions kept when present.
    const attributes: [name: string, value: unknown, keepExisting: boolean][] = [
      ['user_id', user.user_id, true],
      ['user_ref', userRef(user.realm, user.user_id), true],
      ['created_at', user.created_at, true],
      ['logins_count', 0, true],
      ['permissions', user.permissions, true],
      ['realm', user.realm, false],
      ['username', user.username, false],
      ['username_key', user.username_key, false],
      ['email_verified', user.email_verified, false],
      ['blocked', user.blocked, false],
      ['password_hash', user.password_hash, false],
      ['updated_at', user.created_at, false],
      ['email', user.email, false],
      ['name', user.name, false],
    ];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const assignments: string[] = [];
    attributes.forEach(([name, value, keepExisting], i) => {
      if (value === undefined) return; // absent from the file: the stored value stays
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      assignments.push(keepExisting ? `#a${i} = if_not_exists(#a${i}, :a${i})` : `#a${i} = :a${i}`);
    });
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(user.realm, user.username_key),
          // An overwrite on purpose may replace the password: it ends the user's sessions too (ports.ts).
          // A new item starts at the user's first epoch (NewUser), an existing one moves on from its own.
          UpdateExpression: `SET ${assignments.join(', ')}, session_epoch = if_not_exists(session_epoch, :firstEpoch) + :one`,
          // A user's id never changes: the same username under another id is another user.
          ConditionExpression: 'attribute_not_exists(pk) OR #a0 = :a0',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':one': 1, ':firstEpoch': user.session_epoch },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes ? 'updated' : 'created';
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new UserExistsError();
      throw translateDynamoError(error, 'UpdateItem');
    }
  }

  async upgradePasswordHash(user: UserRecord, oldHash: string, newHash: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(user.realm, user.username_key),
          UpdateExpression: 'SET password_hash = :new',
          // Only the hash that was verified: a password set meanwhile (or a re-created user) wins.
          ConditionExpression: 'user_id = :id AND password_hash = :old',
          ExpressionAttributeValues: { ':new': newHash, ':old': oldHash, ':id': user.user_id },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw translateDynamoError(error, 'UpdateItem');
    }
  }

  async hashCostClasses(realm: string): Promise<RealmHashCostClasses> {
    return costClassesOf(await this.storedItem(costClassesKey(realm)));
  }

  addHashCostClasses(realm: string, classes: readonly string[], version: number): Promise<boolean> {
    if (classes.length === 0) return Promise.resolve(true); // DynamoDB refuses an empty set
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: costClassesKey(realm),
          // A string set: a class already there is not added twice; the version makes two
          // imports that each fit the budget wait for each other rather than exceed it together.
          UpdateExpression: 'ADD classes :classes, version :one',
          ConditionExpression: version === 0 ? 'attribute_not_exists(version)' : 'version = :version',
          ExpressionAttributeValues: {
            ':classes': new Set(classes),
            ':one': 1,
            ...(version === 0 ? {} : { ':version': version }),
          },
        }),
      ),
    );
  }

  async removeHashCostClasses(realm: string, classes: readonly string[]): Promise<void> {
    if (classes.length === 0) return;
    await dynamoCall('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: costClassesKey(realm),
          UpdateExpression: 'DELETE classes :classes ADD version :one',
          ExpressionAttributeValues: { ':classes': new Set(classes), ':one': 1 },
        }),
      ),
    );
  }

  /** The item as stored (receipts and keys included), read strongly consistent. */
  private async storedItem(key: { pk: string }): Promise<Record<string, unknown> | undefined> {
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return Item;
  }

  /** Items of this table by key, in one strongly consistent BatchGetItem (consistentBatchGet). */
  private async storedItems(keys: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const found = await consistentBatchGet(this.db, { [this.tableName]: keys }, 'user read');
    return found.get(this.tableName) ?? new Map();
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

  resetPassword(
    user: Pick<UserRecord, 'realm' | 'username_key' | 'user_id'>,
    expected: { readonly passwordHash: string; readonly email: string },
    newHash: string,
    at: string,
  ): Promise<boolean> {
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(user.realm, user.username_key),
          UpdateExpression:
            'SET password_hash = :new, email_verified = :true, updated_at = :at ADD session_epoch :one',
          ConditionExpression:
            'user_id = :userId AND email = :email AND (password_hash = :old OR password_hash = :new)',
          ExpressionAttributeValues: {
            ':new': newHash,
            ':old': expected.passwordHash,
            ':true': true,
            ':at': at,
            ':one': 1,
            ':userId': user.user_id,
            ':email': expected.email,
          },
        }),
      ),
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

  async claimEmail(realm: string, emailKey: string, userId: string, previous?: string) {
    const key = emailClaimKey(realm, emailKey);
    const claimed = await conditionalWrite('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, user_id: userId },
          // `user_id = :me`: the SDK's retry of this very write, whose answer was lost.
          ConditionExpression:
            previous === undefined
              ? 'attribute_not_exists(pk) OR user_id = :me'
              : 'user_id = :previous OR user_id = :me',
          ExpressionAttributeValues: {
            ':me': userId,
            ...(previous === undefined ? {} : { ':previous': previous }),
          },
        }),
      ),
    );
    if (claimed) return undefined;
    const holder = await this.storedItem(key);
    return holder?.user_id === userId ? undefined : String(holder?.user_id ?? '');
  }

  async emailHolder(realm: string, emailKey: string): Promise<string | undefined> {
    const holder = await this.storedItem(emailClaimKey(realm, emailKey));
    return holder?.user_id === undefined ? undefined : String(holder.user_id);
  }

  async releaseEmail(realm: string, emailKey: string, userId: string): Promise<void> {
    await conditionalWrite('DeleteItem', () =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: emailClaimKey(realm, emailKey),
          ConditionExpression: 'user_id = :me',
          ExpressionAttributeValues: { ':me': userId },
        }),
      ),
    );
  }

  setEmailVerified(
    user: Pick<UserRecord, 'realm' | 'username_key' | 'user_id'>,
    email: string,
    at: string,
  ): Promise<boolean> {
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(user.realm, user.username_key),
          UpdateExpression: 'SET email_verified = :true, updated_at = :at',
          ConditionExpression: 'user_id = :userId AND email = :email',
          ExpressionAttributeValues: { ':true': true, ':at': at, ':userId': user.user_id, ':email': email },
        }),
      ),
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

  async delete(realm: string, usernameKey: string, userId?: string): Promise<UserRecord> {
    try {
      const { Attributes } = await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: userKey(realm, usernameKey),
          ...(userId === undefined
            ? { ConditionExpression: 'attribute_exists(pk)' }
            : {
                ConditionExpression: 'attribute_exists(pk) AND user_id = :user_id',
                ExpressionAttributeValues: { ':user_id': userId },
              }),
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
