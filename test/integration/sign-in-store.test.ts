import { randomUUID } from 'node:crypto';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAttemptStore } from '../../functions/adapters/dynamodb/attempt-store.ts';
import { DynamoRefreshTokenStore } from '../../functions/adapters/dynamodb/refresh-token-store.ts';
import { DynamoSignInStore } from '../../functions/adapters/dynamodb/sign-in-store.ts';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { parseConfig } from '../../functions/config/load.ts';
import type { ChargedAttempt, LoginCounter, SignIn, UserRecord } from '../../functions/oauth/ports.ts';
import { newSession } from '../../functions/oauth/sessions/refresh-tokens.ts';
import { testConfig } from '../helpers/config.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { newUserRecord } from '../helpers/users.ts';

let store: TestStore;
let users: DynamoUserStore;
let attempts: DynamoAttemptStore;
let refreshTokens: DynamoRefreshTokenStore;
let signIns: DynamoSignInStore;

beforeAll(async () => {
  store = await openTestStore();
  users = new DynamoUserStore(store.db, store.names.users);
  attempts = new DynamoAttemptStore(store.db, store.names.attempts);
  refreshTokens = new DynamoRefreshTokenStore(store.db, store.names['refresh-tokens'], store.names.users);
  signIns = new DynamoSignInStore(store.db, store.names);
});
afterAll(() => store?.close());

const AT = '2030-01-01T00:00:00.000Z';
const NOW = Date.parse(AT) / 1000;
const config = parseConfig(testConfig());
let sequence = 0;

const newUser = (): Promise<UserRecord> => users.create(newUserRecord(`signer${sequence++}`));

/** A user's run with one charge in it: the attempt a right password refunds. */
async function chargedRun(user: UserRecord): Promise<{ counter: LoginCounter; attempt: ChargedAttempt }> {
  const counter = { key: `ui#${user.username_key}`, userRef: `u#${user.username_key}` };
  const attempt = {
    id: randomUUID(),
    now: NOW,
    failuresUntil: NOW + 900,
    maxConsecutiveFailures: 10,
    maxFailuresPerDay: 100,
  };
  expect(await attempts.charge(counter, attempt)).toEqual({ charged: true });
  return { counter, attempt };
}

function signInOf(
  user: UserRecord,
  extra: Partial<SignIn> = {},
): SignIn & { session: NonNullable<SignIn['session']> } {
  const client = config.clients[0];
  const api = config.apis[0];
  if (!client || !api) throw new Error('test config without a client or an API');
  const { family } = newSession(
    { config, counterHashKey: Buffer.alloc(32, 3) },
    {
      client,
      api,
      user,
      scopes: ['offline_access'],
      now: Date.parse(AT),
      jkt: undefined,
    },
  );
  return { user, at: AT, loginId: randomUUID(), session: { family }, ...extra } as never;
}

const stored = (user: UserRecord) => users.findByUsername('customers', user.username_key);

describe(`sign-in writes, all or nothing (${process.env.DYNAMODB_ENDPOINT ? 'DynamoDB' : 'dynalite with the emulated transaction'})`, () => {
  it('writes the login count, the session and the refund of the run in one write', async () => {
    const user = await newUser();
    const refund = await chargedRun(user);
    const signIn = signInOf(user, { refund });
    await signIns.record(signIn);
    expect(await stored(user)).toMatchObject({ logins_count: 1, last_login: AT });
    expect(await refreshTokens.findFamily(signIn.session.family.family_id)).toEqual(signIn.session.family);
    expect((await attempts.read(refund.counter, NOW)).consecutiveFailures).toBe(0);
  });

  it('writes nothing at all when one of its writes cannot be made: a session that meets an existing item', async () => {
    const user = await newUser();
    const refund = await chargedRun(user);
    const first = signInOf(user);
    await signIns.record(first);
    // A second sign-in whose family id clashes with the first one's (128 random bits never do).
    const clash = signInOf(user, { refund });
    const family = { ...clash.session.family, family_id: first.session.family.family_id };
    await expect(signIns.record({ ...clash, session: { family } })).rejects.toThrow(/existing item/);
    expect((await stored(user))?.logins_count).toBe(1);
    expect((await attempts.read(refund.counter, NOW)).consecutiveFailures).toBe(1);
    expect(await refreshTokens.findFamily(first.session.family.family_id)).toEqual(first.session.family);
  });

  it('leaves out what is a no-op by definition: a run that ended meanwhile, a user deleted meanwhile', async () => {
    const user = await newUser();
    const refund = await chargedRun(user);
    await attempts.refund(refund.counter, refund.attempt); // another right password ended the run
    const again = await chargedRun(user); // and a new failure started one: not this login's to end
    const signIn = signInOf(user, { refund });
    await signIns.record(signIn);
    expect((await stored(user))?.logins_count).toBe(1);
    expect((await attempts.read(again.counter, NOW)).consecutiveFailures).toBe(1);
    await users.delete('customers', user.username_key);
    const late = signInOf(user);
    await signIns.record(late);
    expect(await stored(user)).toBeUndefined();
    expect(await refreshTokens.findFamily(late.session.family.family_id)).toEqual(late.session.family);
  });

  it('counts a sign-in written twice (a retry after a lost answer) once', async () => {
    const user = await newUser();
    const signIn = signInOf(user, { session: undefined });
    await signIns.record(signIn);
    await signIns.record(signIn);
    expect((await stored(user))?.logins_count).toBe(1);
  });

  it('ends the run of a sign-in whose own write failed, when taking it back', async () => {
    const user = await newUser();
    const refund = await chargedRun(user);
    const signIn = signInOf(user, { refund });
    await signIns.undo(signIn); // its transaction never landed
    expect((await attempts.read(refund.counter, NOW)).consecutiveFailures).toBe(0);
    expect((await stored(user))?.logins_count).toBe(0);
  });

  it('takes back a sign-in whose answer never left: the session goes, the count and last_login go back', async () => {
    const user = await newUser();
    await signIns.record(signInOf(user, { session: undefined }));
    const before = await stored(user);
    const signIn = signInOf(before as UserRecord, { at: '2030-01-02T00:00:00.000Z' });
    await signIns.record(signIn);
    await signIns.undo(signIn);
    await signIns.undo(signIn);
    expect(await stored(user)).toMatchObject({ logins_count: 1, last_login: AT });
    expect(await refreshTokens.findFamily(signIn.session.family.family_id)).toBeUndefined();
  });
});

describe('the engine transaction itself', () => {
  const table = () => store.names.attempts;
  const add = (pk: string) => ({
    Update: {
      TableName: table(),
      Key: { pk },
      UpdateExpression: 'ADD n :one',
      ExpressionAttributeValues: { ':one': 1 },
    },
  });
  const n = async (pk: string) =>
    (await store.db.send(new GetCommand({ TableName: table(), Key: { pk }, ConsistentRead: true }))).Item?.n;

  it('applies a transaction sent again with the same ClientRequestToken once', async () => {
    const pk = `tx-${randomUUID()}`;
    const send = () =>
      store.db.send(new TransactWriteCommand({ TransactItems: [add(pk)], ClientRequestToken: 'token-a' }));
    await send();
    await send();
    expect(await n(pk)).toBe(1);
  });
});
