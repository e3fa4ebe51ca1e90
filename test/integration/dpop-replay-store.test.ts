import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDpopReplayStore } from '../../functions/adapters/dynamodb/dpop-replay-store.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { injectFaults } from '../helpers/faults.ts';

let store: TestStore;
let proofs: DynamoDpopReplayStore;
beforeAll(async () => {
  store = await openTestStore();
  proofs = new DynamoDpopReplayStore(store.db, store.names['dpop-proofs']);
});
afterAll(() => store?.close());

let sequence = 0;
const unique = () => `proof-${Date.now().toString(36)}-${(sequence++).toString(36)}`;
const NOW = 1_900_000_000;

describe('DPoP replay store (DynamoDB)', () => {
  it('accepts a proof once and refuses it again while it has not expired', async () => {
    const key = unique();
    expect(await proofs.claim(key, { now: NOW, expiresAt: NOW + 61 })).toBe(true);
    expect(await proofs.claim(key, { now: NOW + 30, expiresAt: NOW + 91 })).toBe(false);
    expect(await proofs.claim(key, { now: NOW + 61, expiresAt: NOW + 122 })).toBe(false);
    const { Item } = await store.db.send(
      new GetCommand({ TableName: store.names['dpop-proofs'], Key: { pk: `proof#${key}` } }),
    );
    // Only the key and its expiry for TTL: the proof itself is never stored.
    expect(Object.keys(Item ?? {}).sort()).toEqual(['claim_id', 'expires_at', 'pk']);
    expect(Item?.expires_at).toBe(NOW + 61);
  });

  it('lets an expired entry that TTL has not swept yet be claimed again', async () => {
    const key = unique();
    expect(await proofs.claim(key, { now: NOW, expiresAt: NOW + 61 })).toBe(true);
    expect(await proofs.claim(key, { now: NOW + 62, expiresAt: NOW + 123 })).toBe(true);
  });

  it("takes the SDK's retry of its own write, whose answer was lost, for no replay", async () => {
    const faults = await injectFaults(store.db as never, [{ operation: 'PutItem', nth: 1, fault: 'lost' }]);
    try {
      expect(await proofs.claim(unique(), { now: NOW, expiresAt: NOW + 61 })).toBe(true);
      expect(faults.injected).toHaveLength(1);
    } finally {
      await faults.restore();
    }
  });

  it('reports DynamoDB being unavailable as such, never as a replay', async () => {
    const faults = await injectFaults(store.db as never, [
      { operation: 'PutItem', nth: 1, times: 5, fault: 'internal' },
    ]);
    try {
      await expect(proofs.claim(unique(), { now: NOW, expiresAt: NOW + 61 })).rejects.toBeInstanceOf(
        DependencyUnavailableError,
      );
    } finally {
      await faults.restore();
    }
  });
});
