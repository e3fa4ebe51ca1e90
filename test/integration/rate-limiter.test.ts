import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimiter } from '../../functions/adapters/dynamodb/rate-limiter.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { injectFaults } from '../helpers/faults.ts';

let store: TestStore;
let limiter: DynamoRateLimiter;
beforeAll(async () => {
  store = await openTestStore();
  limiter = new DynamoRateLimiter(store.db, store.names.attempts);
});
afterAll(() => store?.close());

const HOUR_END = 1_900_000_800;
const window = (limit: number, endsAt = HOUR_END) => ({ endsAt, limit, id: randomUUID() });

describe('rate limiter (DynamoDB)', () => {
  it('allows `limit` requests in a window and refuses the next, each window on its own', async () => {
    const key = randomUUID();
    const taken = [];
    for (let i = 0; i < 4; i++) taken.push(await limiter.take(key, window(3)));
    expect(taken).toEqual([true, true, true, false]);
    expect(await limiter.take(key, window(3, HOUR_END + 3600))).toBe(true);
    expect(await limiter.take(randomUUID(), window(3))).toBe(true);
  });

  it('never lets parallel requests past the limit', async () => {
    const key = randomUUID();
    const taken = await Promise.all(Array.from({ length: 12 }, () => limiter.take(key, window(5))));
    expect(taken.filter(Boolean)).toHaveLength(5);
  });

  it('counts a request once when its write is retried after the answer was lost', async () => {
    const key = randomUUID();
    const faults = await injectFaults(store.db as never, [
      { operation: 'UpdateItem', nth: 1, fault: 'lost' },
    ]);
    try {
      expect(await limiter.take(key, window(2))).toBe(true);
      expect(faults.injected).toHaveLength(1);
    } finally {
      await faults.restore();
    }
    expect(await limiter.take(key, window(2))).toBe(true);
    expect(await limiter.take(key, window(2))).toBe(false);
  });

  it('reports DynamoDB being unavailable as such, never as a request allowed', async () => {
    const faults = await injectFaults(store.db as never, [
      { operation: 'UpdateItem', nth: 1, times: 5, fault: 'internal' },
    ]);
    try {
      await expect(limiter.take(randomUUID(), window(2))).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      await faults.restore();
    }
  });
});
