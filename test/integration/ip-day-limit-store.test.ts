import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAttemptStore } from '../../functions/adapters/dynamodb/attempt-store.ts';
import { parseConfig } from '../../functions/config/load.ts';
import type { OAuthError } from '../../functions/oauth/errors.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import type { AttemptStore } from '../../functions/oauth/ports.ts';
import { readLoginCounters } from '../../functions/oauth/protection/brute-force.ts';
import { testConfig } from '../helpers/config.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { MemoryAttemptStore, memoryServices, publicClient, requestInfo } from '../helpers/memory-ports.ts';

// Runs in `npm test` on dynalite and, by its name (`store.test`), in `npm run test:dynamodb-local`
// on DynamoDB Local: the limit must hold on the engine that production's semantics come from.
let dynamo: TestStore;
beforeAll(async () => {
  dynamo = await openTestStore();
});
afterAll(() => dynamo.close());

const LIMIT = 10;
const BURST = 40;

const stores: [string, () => AttemptStore][] = [
  ['the DynamoDB store', () => new DynamoAttemptStore(dynamo.db, dynamo.names.attempts)],
  ['the in-memory store of the unit tests', () => new MemoryAttemptStore()],
];

describe.each(stores)("the IP's daily limit under a parallel burst, on %s", (_name, attemptStore) => {
  it('checks exactly the limit of passwords and refuses the rest before any hashing', async () => {
    const { services, hasher } = await memoryServices({
      attempts: attemptStore(),
      config: parseConfig(testConfig({ ipThrottling: { maxFailuresPerDay: LIMIT, allowlist: [] } })),
    });
    const sourceIp = `203.0.113.${Math.floor(Math.random() * 250)}`;
    // Distinct usernames, so the per-user limit plays no part: one IP against its daily limit.
    const outcomes = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        handleTokenRequest(
          { grant_type: 'password', client_id: 'mobile-app', username: `nobody-${i}`, password: 'guess' },
          publicClient,
          requestInfo({ sourceIp }),
          services,
        ).then(
          () => 'token',
          (error: OAuthError) => error.error,
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'invalid_grant')).toHaveLength(LIMIT);
    expect(outcomes.filter((outcome) => outcome === 'too_many_attempts')).toHaveLength(BURST - LIMIT);
    // An unknown username costs one dummy verify: the passwords checked.
    expect(hasher.calls.filter((call) => call === 'verifyDummy')).toHaveLength(LIMIT);
    const realm = services.config.realms[0];
    if (!realm) throw new Error('no realm');
    const now = Math.floor(services.clock.now() / 1000);
    const counters = await readLoginCounters(services, realm, 'nobody-new', sourceIp, now);
    expect(counters.state.ipFailures).toBe(LIMIT);
    // The refused attempts were taken back from the runs they were charged on.
    for (let i = 0; i < BURST; i += 1) {
      const run = await readLoginCounters(services, realm, `nobody-${i}`, sourceIp, now);
      expect(run.state.consecutiveFailures).toBeLessThanOrEqual(1);
    }
  });
});
