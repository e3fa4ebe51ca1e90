import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type MfaChallenge,
  type MfaEnrolment,
  type MfaGuesses,
  type MfaStore,
  type MfaUserState,
  UserNotFoundError,
  type UserRecord,
} from '../../oauth/ports.ts';
import { conditionalWrite, dynamoCall, isConditionalCheckFailed, translateDynamoError } from './errors.ts';
import { toRecord, userKey } from './user-store.ts';

/** An `mfa_token` beside the refresh tokens, whose table has TTL (store-schema.ts). */
const challengeKey = (tokenHash: string) => ({ pk: `mfa#${tokenHash}` });

/**
 * MFA state in DynamoDB. The enrolment and the guess bucket are attributes of the user item
 * (`mfa_*`), so enrolling, accepting a code and counting a guess are each one conditional write,
 * deleting the user deletes them too, and a login learns `mfa_active` from the read it makes anyway.
 */
export class DynamoMfaStore implements MfaStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly usersTable: string,
    private readonly challengesTable: string,
  ) {}

  async find(realm: string, usernameKey: string): Promise<MfaUserState | undefined> {
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.usersTable,
          Key: userKey(realm, usernameKey),
          ConsistentRead: true,
        }),
      ),
    );
    if (!Item) return undefined;
    const enrolment: MfaEnrolment | undefined =
      typeof Item.mfa_authenticator_id === 'string'
        ? {
            authenticator_id: Item.mfa_authenticator_id,
            active: Item.mfa_active === true,
            created_at: Item.mfa_created_at as string,
            sealed_secret: Item.mfa_secret as string,
            last_step: (Item.mfa_last_step as number | undefined) ?? 0,
            recovery_code_hash: Item.mfa_recovery_hash as string,
          }
        : undefined;
    const guesses: MfaGuesses | undefined =
      typeof Item.mfa_guesses_at === 'number'
        ? { left: Item.mfa_guesses_left as number, at: Item.mfa_guesses_at }
        : undefined;
    return { user: toRecord(Item), enrolment, guesses };
  }

  enrol(user: UserRecord, enrolment: MfaEnrolment): Promise<boolean> {
    return this.updateUser(
      user,
      // mfa_active false marks the pending authenticator on the item every login reads (mfa/policy.ts).
      'SET mfa_authenticator_id = :id, mfa_secret = :secret, mfa_created_at = :at, mfa_last_step = :zero, mfa_recovery_hash = :recovery, mfa_active = :false',
      // Only while nothing is active: an enrolled user's authenticator is never replaced this way.
      'attribute_not_exists(mfa_active) OR mfa_active = :false',
      {
        ':id': enrolment.authenticator_id,
        ':secret': enrolment.sealed_secret,
        ':at': enrolment.created_at,
        ':zero': 0,
        ':recovery': enrolment.recovery_code_hash,
        ':false': false,
      },
    );
  }

  acceptCode(user: UserRecord, authenticatorId: string, step: number, writer: string): Promise<boolean> {
    return this.updateUser(
      user,
      'SET mfa_last_step = :step, mfa_last_writer = :writer, mfa_active = :true ADD mfa_guesses_left :one',
      // RFC 6238 §5.2: a code is accepted once; parallel submissions of one code race on this write.
      // A retry of this very write (its answer lost) is accepted again and gives the guess back a
      // second time: at most one guess more, once per accepted code, never past the capacity.
      'mfa_authenticator_id = :id AND (mfa_last_step < :step OR (mfa_last_step = :step AND mfa_last_writer = :writer))',
      { ':step': step, ':true': true, ':one': 1, ':id': authenticatorId, ':writer': writer },
    );
  }

  replaceRecoveryCode(user: UserRecord, oldHash: string, newHash: string): Promise<boolean> {
    return this.updateUser(
      user,
      'SET mfa_recovery_hash = :new ADD mfa_guesses_left :one',
      // The new hash is fresh randomness: finding it means this write's own first try landed.
      '(mfa_recovery_hash = :old OR mfa_recovery_hash = :new) AND mfa_active = :true',
      { ':new': newHash, ':old': oldHash, ':one': 1, ':true': true },
    );
  }

  updateGuesses(
    user: UserRecord,
    observed: MfaGuesses | undefined,
    next: MfaGuesses,
    writer: string,
  ): Promise<boolean> {
    const unchanged =
      observed === undefined
        ? 'attribute_not_exists(mfa_guesses_at)'
        : 'mfa_guesses_left = :oldLeft AND mfa_guesses_at = :oldAt';
    return this.updateUser(
      user,
      'SET mfa_guesses_left = :left, mfa_guesses_at = :at, mfa_guesses_writer = :writer',
      `(${unchanged}) OR mfa_guesses_writer = :writer`,
      {
        ':left': next.left,
        ':at': next.at,
        ':writer': writer,
        ...(observed === undefined ? {} : { ':oldLeft': observed.left, ':oldAt': observed.at }),
      },
    );
  }

  async reset(realm: string, usernameKey: string, at: string): Promise<UserRecord> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.usersTable,
          Key: userKey(realm, usernameKey),
          // One write removes the factor and ends the sessions started with it (ports.ts).
          UpdateExpression:
            'REMOVE mfa_active, mfa_authenticator_id, mfa_secret, mfa_created_at, mfa_last_step, mfa_last_writer, mfa_recovery_hash SET updated_at = :at ADD session_epoch :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new UserNotFoundError();
      throw translateDynamoError(error, 'UpdateItem');
    }
  }

  async putChallenge(challenge: MfaChallenge): Promise<void> {
    const written = await conditionalWrite('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.challengesTable,
          Item: {
            ...challenge,
            ...challengeKey(challenge.token_hash),
            expires_at: Math.ceil(challenge.expires_at / 1000),
            expires_at_ms: challenge.expires_at,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    // 256-bit random tokens do not collide: the item is this write's own first try, sent again.
    if (!written && !(await this.findChallenge(challenge.token_hash))) {
      throw translateDynamoError(Object.assign(new Error('lost write'), { $fault: 'server' }), 'PutItem');
    }
  }

  async findChallenge(tokenHash: string): Promise<MfaChallenge | undefined> {
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.challengesTable,
          Key: challengeKey(tokenHash),
          ConsistentRead: true,
        }),
      ),
    );
    if (!Item || Item.spent_by !== undefined) return undefined;
    const { pk: _pk, expires_at: _ttl, expires_at_ms, ...challenge } = Item;
    return { ...(challenge as Omit<MfaChallenge, 'expires_at'>), expires_at: expires_at_ms as number };
  }

  spendChallenge(tokenHash: string, writer: string): Promise<boolean> {
    // Marked, not deleted, so that a retry of this very write can tell it landed; TTL removes it.
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.challengesTable,
          Key: challengeKey(tokenHash),
          UpdateExpression: 'SET spent_by = :writer',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(spent_by) OR spent_by = :writer)',
          ExpressionAttributeValues: { ':writer': writer },
        }),
      ),
    );
  }

  /** One conditional write on the user item, only on the same user (never a re-created namesake). */
  private updateUser(
    user: UserRecord,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    return conditionalWrite('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.usersTable,
          Key: userKey(user.realm, user.username_key),
          UpdateExpression: expression,
          ConditionExpression: `user_id = :userId AND (${condition})`,
          ExpressionAttributeValues: { ...values, ':userId': user.user_id },
        }),
      ),
    );
  }
}
