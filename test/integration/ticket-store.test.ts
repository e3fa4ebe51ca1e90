import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTicketStore } from '../../functions/adapters/dynamodb/ticket-store.ts';
import { newTicket, ticketHash } from '../../functions/oauth/accounts/tickets.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { injectFaults } from '../helpers/faults.ts';

let store: TestStore;
let tickets: DynamoTicketStore;
beforeAll(async () => {
  store = await openTestStore();
  tickets = new DynamoTicketStore(store.db, store.names.tickets);
});
afterAll(() => store?.close());

const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const user = {
  realm: 'customers',
  user_id: '0123456789abcdef01234567',
  username_key: 'alice@example.com',
  email: 'alice@example.com',
};
const issue = () => newTicket('verify-email', user, DAY, NOW);

describe('ticket store (DynamoDB)', () => {
  it('finds a ticket by the hash of its value, and stores the hash only', async () => {
    const { value, record } = issue();
    await tickets.put(record);
    expect(await tickets.find(ticketHash(value), NOW + 1000)).toEqual(record);
    const { Item } = await store.db.send(
      new GetCommand({ TableName: store.names.tickets, Key: { pk: `ticket#${record.token_hash}` } }),
    );
    expect(JSON.stringify(Item)).not.toContain(value);
    // TTL counts in seconds; the record's own times in milliseconds.
    expect(Item?.expires_at_seconds).toBe((NOW + DAY) / 1000);
  });

  it('does not find a ticket at or after its expiry, nor one never issued', async () => {
    const { value, record } = issue();
    await tickets.put(record);
    expect(await tickets.find(ticketHash(value), NOW + DAY)).toBeUndefined();
    expect(await tickets.find(ticketHash('never-issued'), NOW)).toBeUndefined();
  });

  it('spends a ticket once: a second spend fails and the ticket is found no more', async () => {
    const { value, record } = issue();
    await tickets.put(record);
    expect(await tickets.spend(record.token_hash)).toBe(true);
    expect(await tickets.spend(record.token_hash)).toBe(false);
    expect(await tickets.find(ticketHash(value), NOW)).toBeUndefined();
    expect(await tickets.spend(ticketHash('never-issued'))).toBe(false);
  });

  it('lets exactly one of many parallel spends win', async () => {
    const { record } = issue();
    await tickets.put(record);
    const results = await Promise.all(Array.from({ length: 8 }, () => tickets.spend(record.token_hash)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("takes the SDK's retry of its own spend, whose answer was lost, for the win it was", async () => {
    const { record } = issue();
    await tickets.put(record);
    const faults = await injectFaults(store.db as never, [
      { operation: 'UpdateItem', nth: 1, fault: 'lost' },
    ]);
    try {
      expect(await tickets.spend(record.token_hash)).toBe(true);
      expect(faults.injected).toHaveLength(1);
    } finally {
      await faults.restore();
    }
    expect(await tickets.spend(record.token_hash)).toBe(false);
  });

  it('refuses a second ticket with the same hash', async () => {
    const { record } = issue();
    await tickets.put(record);
    await expect(tickets.put(record)).rejects.toThrow();
  });

  it('reports DynamoDB being unavailable as such (503), on every call', async () => {
    const { record } = issue();
    const faults = await injectFaults(store.db as never, [
      { operation: 'PutItem', nth: 1, times: 5, fault: 'internal' },
      { operation: 'GetItem', nth: 1, times: 5, fault: 'throttle' },
      { operation: 'UpdateItem', nth: 1, times: 5, fault: 'reset' },
    ]);
    try {
      await expect(tickets.put(record)).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(tickets.find(record.token_hash, NOW)).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(tickets.spend(record.token_hash)).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      await faults.restore();
    }
  });
});
