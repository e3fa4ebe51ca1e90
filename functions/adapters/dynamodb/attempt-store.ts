import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { allLanded } from '../../oauth/all-landed.ts';
import type { AttemptStore, ChargedAttempt, LoginCounter, LoginCounterState } from '../../oauth/ports.ts';
import { conditionalWrite, contentionError, dynamoCall } from './errors.ts';

/** A counter item as stored (see store-schema.ts). */
interface CounterItem {
  readonly failures?: number;
  readonly failures_until?: number;
  readonly utc_day?: number;
  readonly day_failures?: number;
  readonly charges?: Set<string>;
}

/** Counter writes in flight at once when `users unblock` or `set-password` resets a user's runs. */
const RESET_BATCH = 25;
/** Rounds of re-reading after lost races before the store reports contention as throttling (503). */
const MAX_ROUNDS = 8;

/** A live run takes another charge only below the limit: the check and the count are one write. */
const LIVE = 'failures_until > :now AND failures < :max';
const LAPSED = '(attribute_not_exists(failures_until) OR failures_until <= :now)';
const SAME_DAY = 'utc_day = :day';
const OTHER_DAY = '(attribute_not_exists(utc_day) OR utc_day <> :day)';
const NOT_CHARGED = 'NOT contains(charges, :id)';
const CHARGED = 'contains(charges, :id)';

/**
 * How a refund takes its charge back, by the state of the item. The right password ends the run,
 * so the run's attempt ids go too: `charges` never holds more than the failures of one run, which
 * the limit caps. A same-pair attempt still in flight then finds its id gone; its own refund (had
 * it been right too) changes nothing, leaving its share on the IP's day: one failure too many,
 * for two right passwords of one user from one IP at the same moment. The daily share goes back
 * only while it is still the day the charge counted on.
 */
const REFUND_SHAPES = {
  // The pair has no failure left on the IP's day, so it leaves the sparse by-ip-day index: a day's
  // sum reads only the pairs that failed, however many users share the IP (a carrier's NAT, say).
  'last of the day': {
    update: 'SET failures = :zero, day_failures = :zero REMOVE ip_day, charges',
    condition: `${CHARGED} AND ${SAME_DAY} AND day_failures = :one`,
  },
  'one of several': {
    update: 'SET failures = :zero ADD day_failures :minusOne REMOVE charges',
    condition: `${CHARGED} AND ${SAME_DAY} AND day_failures > :one`,
  },
  'other day': {
    update: 'SET failures = :zero REMOVE charges',
    condition: `${CHARGED} AND ${OTHER_DAY}`,
  },
} as const;
type RefundShape = keyof typeof REFUND_SHAPES;

/** DynamoDB refuses values an expression does not use: only those the expressions name. */
function valuesUsedIn(expressions: string, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries((expressions.match(/:\w+/g) ?? []).map((name) => [name, values[name]]));
}

/**
 * Brute-force counters in DynamoDB: one item per username and IP holds the consecutive run and
 * that pair's share of the IP's daily count, so every change is one conditional single-item write.
 * A charge has four shapes (run live or lapsed × same or other day); each one's condition says
 * exactly when it applies, so a write lands only on the state it was computed for, and a lost race
 * re-reads and tries again. `charges` holds the ids of the run's attempts: a retry whose first try
 * did land (a response lost to a reset connection) finds its id and stops, so nothing counts twice.
 */
export class DynamoAttemptStore implements AttemptStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(counter: LoginCounter, now: number): Promise<LoginCounterState> {
    const [item, ipFailures] = await Promise.all([
      this.item(counter.key),
      counter.ipDay === undefined ? 0 : this.ipFailures(counter.ipDay),
    ]);
    return stateOf(item, now, ipFailures);
  }

  async charge(counter: LoginCounter, observed: LoginCounterState, attempt: ChargedAttempt) {
    let state: Pick<LoginCounterState, 'failuresUntil' | 'countedDay'> = observed;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      if (await this.chargeAs(counter, state, attempt)) return true;
      const item = await this.item(counter.key);
      if (item?.charges?.has(attempt.id)) return true; // an earlier try of this charge landed
      const current = stateOf(item, attempt.now, 0);
      if (current.consecutiveFailures >= attempt.maxConsecutiveFailures) return false;
      state = current;
    }
    throw contentionError('UpdateItem', 'login counter charge');
  }

  async refund(counter: LoginCounter, attempt: ChargedAttempt) {
    const values = {
      ':zero': 0,
      ':one': 1,
      ':minusOne': -1,
      ':id': attempt.id,
      ':day': counter.day,
    };
    // Most logins succeed at their first try: the first guess is that this charge is the pair's
    // only failure of the day. A wrong guess re-reads and writes the shape the item is in.
    let shape: RefundShape = 'last of the day';
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const { update, condition } = REFUND_SHAPES[shape];
      const written = await this.update('refund', counter.key, {
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeValues: valuesUsedIn(`${update} ${condition}`, values),
      });
      if (written) return;
      const item = await this.item(counter.key);
      if (!item?.charges?.has(attempt.id)) return; // refunded by an earlier try
      shape =
        item.utc_day !== counter.day
          ? 'other day'
          : Number(item.day_failures ?? 0) > 1
            ? 'one of several'
            : 'last of the day';
    }
    throw contentionError('UpdateItem', 'login counter refund');
  }

  async resetUser(userRef: string): Promise<void> {
    // The IP's daily shares stay: those failures happened, whoever is unblocked now.
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

  /** One charge, written as the shape `state` calls for; false when the item is no longer in it. */
  private chargeAs(
    counter: LoginCounter,
    state: Pick<LoginCounterState, 'failuresUntil' | 'countedDay'>,
    attempt: ChargedAttempt,
  ): Promise<boolean> {
    const live = (state.failuresUntil ?? 0) > attempt.now;
    const sameDay = state.countedDay === counter.day;
    const set = ['failures_until = :until', 'expires_at = :expires', 'user_ref = :ref'];
    const add: string[] = [];
    (live ? add : set).push(live ? 'failures :one' : 'failures = :one');
    (live ? add : set).push(live ? 'charges :ids' : 'charges = :ids');
    (sameDay ? add : set).push(
      ...(sameDay ? ['day_failures :one'] : ['utc_day = :day', 'day_failures = :one']),
    );
    if (counter.ipDay !== undefined) set.push('ip_day = :ipDay');
    return this.update('charge', counter.key, {
      UpdateExpression: `SET ${set.join(', ')}${add.length > 0 ? ` ADD ${add.join(', ')}` : ''}`,
      ConditionExpression: [
        live ? LIVE : LAPSED,
        sameDay ? SAME_DAY : OTHER_DAY,
        ...(live ? [NOT_CHARGED] : []),
      ].join(' AND '),
      ExpressionAttributeValues: {
        ':one': 1,
        ':ids': new Set([attempt.id]),
        ':now': attempt.now,
        ':day': counter.day,
        ':until': attempt.failuresUntil,
        ':expires': attempt.expiresAt,
        ':ref': counter.userRef,
        ...(live ? { ':id': attempt.id, ':max': attempt.maxConsecutiveFailures } : {}),
        ...(counter.ipDay === undefined ? {} : { ':ipDay': counter.ipDay }),
      },
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

  /**
   * The IP's failures of one day: the sum of its counters' daily shares, from the `by-ip-day`
   * index. Index reads are eventually consistent on DynamoDB, so a burst may overshoot the daily
   * limit by the requests still in flight; the counts themselves are exact.
   */
  private async ipFailures(ipDay: string): Promise<number> {
    let total = 0;
    for await (const items of this.indexPages('by-ip-day', 'ip_day', ipDay)) {
      for (const item of items) total += Number(item.day_failures ?? 0);
    }
    return total;
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

function stateOf(item: CounterItem | undefined, now: number, ipFailures: number): LoginCounterState {
  // TTL deletion is lazy (and absent in dynalite): expiry is decided here, on read.
  const failuresUntil = item?.failures_until;
  return {
    consecutiveFailures: failuresUntil !== undefined && failuresUntil > now ? Number(item?.failures ?? 0) : 0,
    ipFailures,
    failuresUntil,
    countedDay: item?.utc_day,
  };
}
