import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAttemptStore } from '../../functions/adapters/dynamodb/attempt-store.ts';
import type { ChargedAttempt, LoginCounter } from '../../functions/oauth/ports.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';

let dynamo: TestStore;
let store: DynamoAttemptStore;

beforeAll(async () => {
  dynamo = await openTestStore();
  store = new DynamoAttemptStore(dynamo.db, dynamo.names.attempts);
});
afterAll(() => dynamo.close());

const DAY = 20_000;
const NOON = DAY * 86_400 + 43_200;

/** A counter of `user` from `ip` on `day` (allowlisted IPs have no daily group). */
const counterOf = (user: string, ip: string | undefined, day = DAY): LoginCounter => ({
  key: `ui#${user}@${ip ?? 'allowlisted'}`,
  userRef: `u#${user}`,
  day,
  ...(ip === undefined ? {} : { ipDay: `ip#${ip}#${day}` }),
});
const attemptAt = (now: number, blockSeconds = 900, maxConsecutiveFailures = 1000): ChargedAttempt => ({
  id: randomUUID(),
  now,
  failuresUntil: now + blockSeconds,
  expiresAt: now + 86_400,
  maxConsecutiveFailures,
});
/** Reads, then charges on what was read: what one login does. */
async function charge(counter: LoginCounter, attempt = attemptAt(NOON)) {
  await store.charge(counter, await store.read(counter, attempt.now), attempt);
  return attempt;
}
const read = (counter: LoginCounter, now = NOON) => store.read(counter, now);

describe('DynamoDB brute-force counters', () => {
  it('counts concurrent charges exactly, on the run and on the IP day at once', async () => {
    const counter = counterOf('race', '203.0.113.1');
    await Promise.all(Array.from({ length: 20 }, () => charge(counter)));
    expect(await read(counter)).toMatchObject({ consecutiveFailures: 20, ipFailures: 20 });
  });

  it('lands at most the limit of a burst of parallel charges: the check and the count are one write', async () => {
    const counter = counterOf('burst', '203.0.113.10');
    const initial = await read(counter);
    // Sixty guesses that all read the counter at zero, against a limit of ten.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 60 }, () => store.charge(counter, initial, attemptAt(NOON, 900, 10))),
    );
    // A charge that keeps losing races gives up as throttled (503, fail closed): no password checked.
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    for (const outcome of refused) expect(String(outcome.reason)).toMatch(/contention|throttl/i);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value)).toHaveLength(10);
    expect(await read(counter)).toMatchObject({ consecutiveFailures: 10, ipFailures: 10 });
    // Once the run lapses, a new one starts under the same limit.
    expect(await store.charge(counter, await read(counter, NOON + 900), attemptAt(NOON + 900, 900, 10))).toBe(
      true,
    );
  });

  it('counts a charge once when it is written again (a retry whose first try landed)', async () => {
    const counter = counterOf('retry', '203.0.113.2');
    const attempt = await charge(counter);
    await charge(counter);
    // Whatever state the retry believes it is in, it finds its own id and stops.
    await store.charge(counter, { consecutiveFailures: 0, ipFailures: 0 }, attempt);
    await store.charge(counter, await read(counter), attempt);
    expect(await read(counter)).toMatchObject({ consecutiveFailures: 2, ipFailures: 2 });
  });

  it('lapses the run blockSeconds after its last failure, keeping the IP day', async () => {
    const counter = counterOf('lapse', '203.0.113.3');
    await charge(counter, attemptAt(NOON, 100));
    await charge(counter, attemptAt(NOON, 100));
    expect(await read(counter, NOON + 99)).toMatchObject({ consecutiveFailures: 2, ipFailures: 2 });
    expect(await read(counter, NOON + 100)).toMatchObject({ consecutiveFailures: 0, ipFailures: 2 });
    // Concurrent first failures of a new run start it exactly once.
    await Promise.all(Array.from({ length: 8 }, () => charge(counter, attemptAt(NOON + 100, 100))));
    expect(await read(counter, NOON + 100)).toMatchObject({ consecutiveFailures: 8, ipFailures: 10 });
  });

  it('starts a new IP day at midnight without ending a live run', async () => {
    const today = counterOf('midnight', '203.0.113.4');
    await charge(today, attemptAt(NOON + 43_000));
    const tomorrow = counterOf('midnight', '203.0.113.4', DAY + 1);
    await charge(tomorrow, attemptAt(NOON + 43_300));
    expect(await read(tomorrow, NOON + 43_300)).toMatchObject({ consecutiveFailures: 2, ipFailures: 1 });
    expect((await read(today, NOON + 43_300)).ipFailures).toBe(0);
  });

  it("sums an IP's day over its usernames; an allowlisted IP has no day to sum", async () => {
    const ip = '203.0.113.5';
    await charge(counterOf('ann', ip));
    await charge(counterOf('ben', ip));
    await charge(counterOf('ben', ip));
    await charge(counterOf('ann', undefined));
    expect(await read(counterOf('cat', ip))).toEqual(
      expect.objectContaining({ consecutiveFailures: 0, ipFailures: 3 }),
    );
    expect(await read(counterOf('ann', undefined))).toMatchObject({ consecutiveFailures: 1, ipFailures: 0 });
  });

  it('refunds a right password once: the day share back, the run over', async () => {
    const counter = counterOf('refund', '203.0.113.6');
    await charge(counter);
    await charge(counter);
    const right = await charge(counter);
    await store.refund(counter, right);
    await store.refund(counter, right);
    expect(await read(counter)).toMatchObject({ consecutiveFailures: 0, ipFailures: 2 });
    // Refunding an attempt whose day has already been replaced leaves the new day alone.
    const late = await charge(counter, attemptAt(NOON + 43_100));
    const tomorrow = counterOf('refund', '203.0.113.6', DAY + 1);
    await charge(tomorrow, attemptAt(NOON + 43_300));
    await store.refund(counter, late);
    expect(await read(tomorrow, NOON + 43_300)).toMatchObject({ consecutiveFailures: 0, ipFailures: 1 });
  });

  it('keeps the IP day as small as its failures: successful logins leave the sum to read', async () => {
    const ip = '203.0.113.9';
    const ipDay = counterOf('any', ip).ipDay;
    // Fifty users behind one NAT log in at their first try; two of them mistyped first.
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const counter = counterOf(`nat-${i}`, ip);
        if (i < 2) await charge(counter);
        await store.refund(counter, await charge(counter));
      }),
    );
    expect((await read(counterOf('nat-new', ip))).ipFailures).toBe(2);
    const { Items } = await dynamo.db.send(
      new QueryCommand({
        TableName: dynamo.names.attempts,
        IndexName: 'by-ip-day',
        KeyConditionExpression: 'ip_day = :ipDay',
        ExpressionAttributeValues: { ':ipDay': ipDay },
      }),
    );
    expect(Items?.map((item) => item.day_failures)).toEqual([1, 1]);
  });

  it("forgets a run's attempt ids at the right password, so a long-lived run stays small", async () => {
    const counter = counterOf('stale-device', '203.0.113.11');
    // A shared account: a stale device fails every few minutes, the others sign in in between, so
    // the run never lapses.
    for (let minute = 0; minute < 300; minute += 5) {
      const at = NOON + minute * 60;
      if (minute % 15 === 0) await charge(counter, attemptAt(at));
      await store.refund(counter, await charge(counter, attemptAt(at + 1)));
    }
    const { Item } = await dynamo.db.send(
      new GetCommand({ TableName: dynamo.names.attempts, Key: { pk: counter.key } }),
    );
    expect(Item?.charges).toBeUndefined();
    expect(await read(counter, NOON + 300 * 60)).toMatchObject({ consecutiveFailures: 0, ipFailures: 20 });
  });

  it('resets a username sprayed from many IPs a few writes at a time', async () => {
    const ips = Array.from({ length: 60 }, (_, i) => `198.18.0.${i}`);
    for (const ip of ips) await charge(counterOf('sprayed', ip));
    let inFlight = 0;
    let most = 0;
    const counting = {
      send: async (command: Parameters<typeof dynamo.db.send>[0]) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          return await dynamo.db.send(command);
        } finally {
          inFlight -= 1;
        }
      },
    } as unknown as typeof dynamo.db;
    await new DynamoAttemptStore(counting, dynamo.names.attempts).resetUser('u#sprayed');
    for (const ip of ips) expect((await read(counterOf('sprayed', ip))).consecutiveFailures).toBe(0);
    expect(most).toBeLessThanOrEqual(25);
  });

  it("ends every run of one user and keeps the IPs' days", async () => {
    const ip = '203.0.113.7';
    await charge(counterOf('alice', ip));
    await charge(counterOf('alice', '203.0.113.8'));
    await charge(counterOf('bob', ip));
    await store.resetUser('u#alice');
    expect(await read(counterOf('alice', ip))).toMatchObject({ consecutiveFailures: 0, ipFailures: 2 });
    expect((await read(counterOf('alice', '203.0.113.8'))).consecutiveFailures).toBe(0);
    expect((await read(counterOf('bob', ip))).consecutiveFailures).toBe(1);
  });
});
