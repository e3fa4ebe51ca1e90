import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAttemptStore } from '../../functions/adapters/dynamodb/attempt-store.ts';
import type { ChargedAttempt, IpDayCounter, LoginCounter } from '../../functions/oauth/ports.ts';
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

/** The IP's count of `day`. */
const ipDayOf = (ip: string, day = DAY): IpDayCounter => ({
  key: `ip#${ip}#${day}`,
  endsAt: (day + 1) * 86_400,
});
/** A counter of `user` from `ip` on `day` (allowlisted IPs have no daily count). */
const counterOf = (user: string, ip: string | undefined, day = DAY): LoginCounter => ({
  key: `ui#${user}@${ip ?? 'allowlisted'}`,
  userRef: `u#${user}`,
  ...(ip === undefined ? {} : { ipDay: ipDayOf(ip, day) }),
});
const attemptAt = (
  now: number,
  blockSeconds = 900,
  maxConsecutiveFailures = 1000,
  maxFailuresPerDay = 1000,
): ChargedAttempt => ({
  id: randomUUID(),
  now,
  failuresUntil: now + blockSeconds,
  maxConsecutiveFailures,
  maxFailuresPerDay,
});
/** Charges both counters, without reading them first: what one login does. */
async function charge(counter: LoginCounter, attempt = attemptAt(NOON)) {
  await store.charge(counter, attempt);
  if (counter.ipDay) await store.reserveIpDay(counter.ipDay, attempt);
  return attempt;
}
/** A right password: both charges taken back. */
async function refund(counter: LoginCounter, attempt: ChargedAttempt) {
  await store.refund(counter, attempt);
  if (counter.ipDay) await store.releaseIpDay(counter.ipDay, attempt);
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
    // Sixty guesses at once, against a limit of ten.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 60 }, () => store.charge(counter, attemptAt(NOON, 900, 10))),
    );
    // A charge that keeps losing races gives up as throttled (503, fail closed): no password checked.
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    for (const outcome of refused) expect(String(outcome.reason)).toMatch(/contention|throttl/i);
    const charged = outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value.charged);
    expect(charged).toHaveLength(10);
    // The refused ones learn when the run lapses (the Retry-After), from the write that refused them.
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled' && !outcome.value.charged)
        expect(outcome.value).toEqual({ charged: false, failuresUntil: NOON + 900 });
    }
    expect(await read(counter)).toMatchObject({ consecutiveFailures: 10, ipFailures: 0 });
    // Once the run lapses, a new one starts under the same limit, at 1.
    expect(await store.charge(counter, attemptAt(NOON + 900, 900, 10))).toEqual({ charged: true });
    expect(await read(counter, NOON + 900)).toMatchObject({ consecutiveFailures: 1 });
  });

  it('counts a charge once when it is written again (a retry whose first try landed)', async () => {
    const counter = counterOf('retry', '203.0.113.2');
    const attempt = await charge(counter);
    await charge(counter);
    // The retry finds its own id and stops.
    expect(await store.charge(counter, attempt)).toEqual({ charged: true });
    expect(await store.charge(counter, attempt)).toEqual({ charged: true });
    expect(await store.reserveIpDay(ipDayOf('203.0.113.2'), attempt)).toBe(true);
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
    expect((await read(today, NOON + 43_300)).ipFailures).toBe(1);
  });

  it("counts an IP's day over its usernames; an allowlisted IP has no day", async () => {
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

  it("reserves exactly the IP's daily limit of a parallel burst: the check and the count are one write", async () => {
    const ipDay = ipDayOf('203.0.113.12');
    const attempts = Array.from({ length: 60 }, () => attemptAt(NOON, 900, 1000, 10));
    const reserved = await Promise.all(attempts.map((attempt) => store.reserveIpDay(ipDay, attempt)));
    expect(reserved.filter(Boolean)).toHaveLength(10);
    expect((await read(counterOf('any', '203.0.113.12'))).ipFailures).toBe(10);
    // A retry of a reservation that landed is not a new one, even on a full day.
    const first = attempts[reserved.indexOf(true)] as ChargedAttempt;
    expect(await store.reserveIpDay(ipDay, first)).toBe(true);
    // A reservation given back (twice: a retry) frees one place, once.
    await store.releaseIpDay(ipDay, first);
    await store.releaseIpDay(ipDay, first);
    expect((await read(counterOf('any', '203.0.113.12'))).ipFailures).toBe(9);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => store.reserveIpDay(ipDay, attemptAt(NOON, 900, 1000, 10))),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
  });

  it('withdraws one charge and keeps the run going (an attempt the IP limit refused)', async () => {
    const counter = counterOf('withdrawn', '203.0.113.13');
    await charge(counter);
    const refused = attemptAt(NOON);
    await store.charge(counter, refused);
    await store.withdraw(counter, refused);
    await store.withdraw(counter, refused);
    expect((await read(counter)).consecutiveFailures).toBe(1);
  });

  it('refunds a right password once: its place on the day back, the run over', async () => {
    const counter = counterOf('refund', '203.0.113.6');
    await charge(counter);
    await charge(counter);
    const right = await charge(counter);
    await refund(counter, right);
    await refund(counter, right);
    expect(await read(counter)).toMatchObject({ consecutiveFailures: 0, ipFailures: 2 });
  });

  it('keeps the IP day as small as its failures: successful logins give their places back', async () => {
    const ip = '203.0.113.9';
    // Fifty users behind one NAT log in at their first try; two of them mistyped first.
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const counter = counterOf(`nat-${i}`, ip);
        if (i < 2) await charge(counter);
        await refund(counter, await charge(counter));
      }),
    );
    expect((await read(counterOf('nat-new', ip))).ipFailures).toBe(2);
    const { Item } = await dynamo.db.send(
      new GetCommand({ TableName: dynamo.names.attempts, Key: { pk: ipDayOf(ip).key } }),
    );
    expect(Item?.charges?.size).toBe(2);
  });

  it("forgets a run's attempt ids at the right password, so a long-lived run stays small", async () => {
    const counter = counterOf('stale-device', '203.0.113.11');
    // A shared account: a stale device fails every few minutes, the others sign in in between, so
    // the run never lapses.
    for (let minute = 0; minute < 300; minute += 5) {
      const at = NOON + minute * 60;
      if (minute % 15 === 0) await charge(counter, attemptAt(at));
      await refund(counter, await charge(counter, attemptAt(at + 1)));
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
