import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { allLanded } from '../../oauth/all-landed.ts';
import type {
  AttemptStore,
  ChargedAttempt,
  IpDayCounter,
  LoginCounter,
  LoginCounterState,
  RunCharge,
} from '../../oauth/ports.ts';
import {
  conditionalWrite,
  contentionError,
  dynamoCall,
  isConditionalCheckFailed,
  translateDynamoError,
} from './errors.ts';

/** A run item or an IP-day item as stored (see store-schema.ts). */
interface CounterItem {
  readonly failures?: number;
  readonly failures_until?: number;
  readonly charges?: Set<string>;
}

/** Counter writes in flight at once when `users unblock` or `set-password` resets a user's runs. */
const RESET_BATCH = 25;
/** Rounds of re-reading after lost races before the store reports contention as throttling (503). */
const MAX_ROUNDS = 8;

/**
 * A charge counts on from the item unless it holds a lapsed run's failures: the check (below the
 * limit) and the count are one write.
 */
const CONTINUES =
  '(attribute_not_exists(failures) OR failures = :zero OR (failures_until > :now AND failures < :max))';
const LAPSED = '(attribute_not_exists(failures_until) OR failures_until <= :now)';
const NOT_CHARGED = 'NOT contains(charges, :id)';
const CHARGED = 'contains(charges, :id)';

/**
 * The right password ends the run (AttemptStore.refund, and the sign-in's transaction), so the
 * run's attempt ids go too: `charges` never holds more than the failures of one run, which the
 * limit caps. Only while the attempt's charge is there: a same-pair attempt still in flight then
 * finds its id gone, and its own refund (had it been right too) changes nothing.
 */
export function refundRun(tableName: string, counter: LoginCounter, attempt: ChargedAttempt) {
  return {
    TableName: tableName,
    Key: { pk: counter.key },
    UpdateExpression: 'SET failures = :zero REMOVE charges',
    ConditionExpression: CHARGED,
    ExpressionAttributeValues: { ':zero': 0, ':id': attempt.id },
  };
}

/**
 * Brute-force counters in DynamoDB, two kinds of item, each changed by one conditional
 * single-item write:
 * - a run (`ui#…`): the consecutive failures of one username from one IP. A charge is written
 *   without a read, in the shape that fits every run but a lapsed one that still holds failures;
 *   a refusal returns the item, which says whether the limit refused it or the other shape fits.
 * - an IP's day (`ip#…#<day>`): the attempts the IP holds on one UTC day. A reservation's condition
 *   is the limit itself, so it needs no read and no retry: it lands or the day is full.
 * `charges` holds the ids of the attempts an item counts: a retry whose first try did land (a
 * response lost to a reset connection) finds its id and stops, so nothing counts twice.
 */
export class DynamoAttemptStore implements AttemptStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(counter: LoginCounter, now: number): Promise<LoginCounterState> {
    const [item, ipDay] = await Promise.all([
      this.item(counter.key),
      counter.ipDay === undefined ? undefined : this.item(counter.ipDay.key),
    ]);
    return { ...stateOf(item, now), ipFailures: Number(ipDay?.failures ?? 0) };
  }

  async charge(counter: LoginCounter, attempt: ChargedAttempt): Promise<RunCharge> {
    let shape: 'continue' | 'restart' = 'continue';
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const refused = await this.chargeAs(counter, shape, attempt);
      if (refused === undefined) return { charged: true };
      // The item as the refused write found it: in the refusal (DynamoDB), or read (dynalite).
      const item = refused.item ?? (await this.item(counter.key));
      if (item?.charges?.has(attempt.id)) return { charged: true }; // an earlier try of this charge landed
      const current = stateOf(item, attempt.now);
      if (current.consecutiveFailures >= attempt.maxConsecutiveFailures) {
        return { charged: false, failuresUntil: current.failuresUntil ?? attempt.now };
      }
      shape =
        current.failuresUntil !== undefined && current.failuresUntil > attempt.now ? 'continue' : 'restart';
    }
    throw contentionError('UpdateItem', 'login counter charge');
  }

  async withdraw(counter: LoginCounter, attempt: ChargedAttempt) {
    await this.takeBack('withdraw', counter.key, attempt);
  }

  async refund(counter: LoginCounter, attempt: ChargedAttempt) {
    await conditionalWrite('UpdateItem (refund)', () =>
      this.db.send(new UpdateCommand(refundRun(this.tableName, counter, attempt))),
    );
  }

  async reserveIpDay(ipDay: IpDayCounter, attempt: ChargedAttempt) {
    const written = await this.update('reserve', ipDay.key, {
      UpdateExpression: 'SET expires_at = :expires ADD failures :one, charges :ids',
      ConditionExpression: `(attribute_not_exists(failures) OR failures < :max) AND ${NOT_CHARGED}`,
      ExpressionAttributeValues: {
        ':expires': ipDay.endsAt,
        ':one': 1,
        ':ids': new Set([attempt.id]),
        ':max': attempt.maxFailuresPerDay,
        ':id': attempt.id,
      },
    });
    if (written) return true;
    return (await this.item(ipDay.key))?.charges?.has(attempt.id) === true; // an earlier try landed
  }

  async releaseIpDay(ipDay: IpDayCounter, attempt: ChargedAttempt) {
    await this.takeBack('release', ipDay.key, attempt);
  }

  async resetUser(userRef: string): Promise<void> {
    // The IPs' days stay: those failures happened, whoever is unblocked now.
    // A username sprayed from thousands of IPs has thousands of counters: a few writes at a time,
    // not a page's worth at once.
    for await (const items of this.indexPages('by-user', 'user_ref', userRef)) {
      for (let start = 0; start < items.length; start += RESET_BATCH) {
        await allLanded(
          items.slice(start, start + RESET_BATCH).map((item) =>
            this.update('resetUser', String(item.pk), {
              UpdateExpression: 'SET failures = :zero',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':zero': 0 },
            }),
          ),
        );
      }
    }
  }

  /**
   * One charge of the run, without reading it first. `continue` counts on from what the item
   * holds: it applies to a new item, a run with no failures left (a refund or a reset ended it,
   * lapsed or not) and a live run below the limit, which is every run but one: a lapsed run that
   * still holds failures, which `restart` starts again at 1. Each shape's condition says exactly
   * when it applies, so a write lands only on the state it was made for. Undefined when written;
   * otherwise the item as the refused write found it, when the engine returns it.
   */
  private async chargeAs(
    counter: LoginCounter,
    shape: 'continue' | 'restart',
    attempt: ChargedAttempt,
  ): Promise<{ item?: CounterItem } | undefined> {
    const set = ['failures_until = :until', 'expires_at = :until', 'user_ref = :ref'];
    const continuing = shape === 'continue';
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: counter.key },
          UpdateExpression: continuing
            ? `SET ${set.join(', ')}, failures = if_not_exists(failures, :zero) + :one ADD charges :ids`
            : `SET ${set.join(', ')}, failures = :one, charges = :ids`,
          ConditionExpression: continuing ? `${CONTINUES} AND ${NOT_CHARGED}` : LAPSED,
          ExpressionAttributeValues: {
            ':one': 1,
            ':ids': new Set([attempt.id]),
            ':now': attempt.now,
            ':until': attempt.failuresUntil,
            ':ref': counter.userRef,
            ...(continuing ? { ':id': attempt.id, ':max': attempt.maxConsecutiveFailures, ':zero': 0 } : {}),
          },
          // DynamoDB answers a refused write with the item it found: no read to learn why.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw translateDynamoError(error, 'UpdateItem (charge)');
      const found = (error as { Item?: Record<string, AttributeValue> }).Item;
      return { item: found && (unmarshall(found) as CounterItem) };
    }
  }

  /** Takes one counted attempt back; one not there (taken back already, or its run ended) stays so. */
  private async takeBack(operation: string, key: string, attempt: ChargedAttempt): Promise<void> {
    await this.update(operation, key, {
      UpdateExpression: 'ADD failures :minusOne DELETE charges :ids',
      ConditionExpression: CHARGED,
      ExpressionAttributeValues: { ':minusOne': -1, ':ids': new Set([attempt.id]), ':id': attempt.id },
    });
  }

  /** One conditional UpdateItem: true when written, false when its condition failed. */
  private update(
    operation: string,
    key: string,
    input: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>,
  ): Promise<boolean> {
    return conditionalWrite(`UpdateItem (${operation})`, () =>
      this.db.send(new UpdateCommand({ TableName: this.tableName, Key: { pk: key }, ...input })),
    );
  }

  private async item(key: string): Promise<CounterItem | undefined> {
    const { Item } = await dynamoCall('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: key }, ConsistentRead: true })),
    );
    return Item as CounterItem | undefined;
  }

  /** Every page of the items whose `attribute` is `value` in `index`. */
  private async *indexPages(index: string, attribute: string, value: string) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await dynamoCall('Query', () =>
        this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: `${attribute} = :value`,
            ExpressionAttributeValues: { ':value': value },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}

function stateOf(item: CounterItem | undefined, now: number): Omit<LoginCounterState, 'ipFailures'> {
  // TTL deletion is lazy (and absent in dynalite): expiry is decided here, on read.
  const failuresUntil = item?.failures_until;
  return {
    consecutiveFailures: failuresUntil !== undefined && failuresUntil > now ? Number(item?.failures ?? 0) : 0,
    failuresUntil,
  };
}
