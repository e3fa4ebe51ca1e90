import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAttemptStore } from '../../functions/adapters/dynamodb/attempt-store.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';

let dynamo: TestStore;
let store: DynamoAttemptStore;

beforeAll(async () => {
  dynamo = await openTestStore();
  store = new DynamoAttemptStore(dynamo.db, dynamo.names.attempts);
});
afterAll(() => dynamo.close());

describe('DynamoDB brute-force counters', () => {
  it('counts concurrent failures exactly', async () => {
    const counts = await Promise.all(
      Array.from({ length: 20 }, () => store.addFailure('ui#race', 2000, 1000, 'u#r')),
    );
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await store.failures('ui#race', 1000)).toBe(20);
  });

  it('reads an expired counter as zero and starts it again from one', async () => {
    await store.addFailure('ui#expiring', 1100, 1000);
    await store.addFailure('ui#expiring', 1100, 1000);
    expect(await store.failures('ui#expiring', 1099)).toBe(2);
    expect(await store.failures('ui#expiring', 1100)).toBe(0);
    expect(await store.addFailure('ui#expiring', 1200, 1100)).toBe(1);
  });

  it('starts concurrent first failures on an expired counter exactly once', async () => {
    await store.addFailure('ui#restart', 1100, 1000);
    const counts = await Promise.all(
      Array.from({ length: 8 }, () => store.addFailure('ui#restart', 1300, 1200)),
    );
    expect(counts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('resets one counter, and all counters of one user', async () => {
    await store.addFailure('ui#one', 2000, 1000, 'u#alice');
    await store.addFailure('ui#two', 2000, 1000, 'u#alice');
    await store.addFailure('ui#three', 2000, 1000, 'u#bob');
    await store.reset('ui#three');
    expect(await store.failures('ui#three', 1000)).toBe(0);
    await store.addFailure('ui#three', 2000, 1000, 'u#bob');
    await store.resetUser('u#alice');
    expect([await store.failures('ui#one', 1000), await store.failures('ui#two', 1000)]).toEqual([0, 0]);
    expect(await store.failures('ui#three', 1000)).toBe(1);
  });
});
