import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { allLanded } from '../../oauth/all-landed.ts';
import type { SignIn, SignInStore } from '../../oauth/ports.ts';
import type { TableNames } from '../../store-schema.ts';
import { refundRun } from './attempt-store.ts';
import { conditionalWrite, contentionError, dynamoCall, translateDynamoError } from './errors.ts';
import { familyKey, newFamily } from './refresh-token-store.ts';
import { forgetLogin, recordLogin } from './user-store.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What each write of the transaction is, to read its cancellation reason. */
type Part = 'count' | 'refund' | 'family';

/** Tries of the transaction before contention is reported as throttling (503). */
const MAX_TRIES = 4;

interface Cancelled extends Error {
  readonly CancellationReasons: readonly { readonly Code?: string }[];
}

/** Cancellation reasons that mean the table is out of capacity: throttling (503). */
const THROTTLED = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/**
 * A sign-in's writes in one TransactWriteItems: the login count on the user item, the session's
 * family, and the refund of the consecutive run, all or nothing. Each try carries a
 * ClientRequestToken, so the SDK's retry of a try whose answer was lost applies nothing twice.
 *
 * A write whose condition fails cancels the whole transaction. The count's condition fails only
 * for a user deleted (or re-created) meanwhile, the refund's only for a run that ended meanwhile
 * (another right password, `users unblock`): both are no-ops by definition, as their single
 * writes would be, so the transaction is tried again without them. A session write that meets an
 * item is a key clash (random 128-bit family ids: never), refused rather than overwritten. Another
 * transaction on the same item (two logins of one user at the same moment) cancels it with
 * `TransactionConflict`: tried again after a short random pause.
 */
export class DynamoSignInStore implements SignInStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async record(signIn: SignIn): Promise<void> {
    let parts = this.parts(signIn);
    for (let attempt = 1; attempt <= MAX_TRIES; attempt += 1) {
      const cancelled = await this.transact(parts);
      if (cancelled === undefined) return;
      const reasons = cancelled.CancellationReasons;
      const failed = new Set(
        parts.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed').map(([part]) => part),
      );
      if (failed.has('family')) {
        throw new Error('refresh token store: a new session met an existing item');
      }
      parts = parts.filter(([part]) => !failed.has(part));
      if (failed.size === 0) {
        if (!reasons.some((reason) => reason.Code === 'TransactionConflict')) {
          // Cancelled for capacity (throttling) or a fault: unavailable (503), like a refused call.
          const throttled = reasons.some((reason) => THROTTLED.has(reason.Code ?? ''));
          throw translateDynamoError(
            throttled ? Object.assign(cancelled, { name: 'ThrottlingException' }) : cancelled,
            'TransactWriteItems',
          );
        }
        await sleep(5 + Math.random() * 20 * attempt);
      }
      if (parts.length === 0) return;
    }
    throw contentionError('TransactWriteItems', 'sign-in');
  }

  async undo(signIn: SignIn): Promise<void> {
    const { session, refund } = signIn;
    const deleted = (key: { pk: string }) =>
      dynamoCall('DeleteItem', () =>
        this.db.send(new DeleteCommand({ TableName: this.tables['refresh-tokens'], Key: key })),
      );
    await allLanded([
      session && deleted(familyKey(session.family.family_id)),
      conditionalWrite('UpdateItem (forget login)', () =>
        this.db.send(
          new UpdateCommand(
            forgetLogin(this.tables.users, signIn.user, signIn.loginId, signIn.user.last_login),
          ),
        ),
      ),
      refund &&
        conditionalWrite('UpdateItem (refund)', () =>
          this.db.send(new UpdateCommand(refundRun(this.tables.attempts, refund.counter, refund.attempt))),
        ),
    ]);
  }

  private parts(signIn: SignIn): [Part, TransactItem][] {
    const { session, refund } = signIn;
    const parts: [Part, TransactItem][] = [
      ['count', { Update: recordLogin(this.tables.users, signIn.user, signIn.at, signIn.loginId) }],
    ];
    if (session) parts.push(['family', { Put: newFamily(this.tables['refresh-tokens'], session.family) }]);
    if (refund) {
      parts.push(['refund', { Update: refundRun(this.tables.attempts, refund.counter, refund.attempt) }]);
    }
    return parts;
  }

  /** One try: undefined when written, else the cancellation, with the reason of each write in order. */
  private async transact(parts: readonly [Part, TransactItem][]): Promise<Cancelled | undefined> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: parts.map(([, item]) => item),
          // Idempotent for 10 minutes: the SDK's retry of a try whose answer was lost applies nothing again.
          ClientRequestToken: randomUUID(),
        }),
      );
      return undefined;
    } catch (error) {
      const cancelled = error as Partial<Cancelled>;
      if (cancelled.name !== 'TransactionCanceledException' || !cancelled.CancellationReasons) {
        throw translateDynamoError(error, 'TransactWriteItems');
      }
      return cancelled as Cancelled;
    }
  }
}
