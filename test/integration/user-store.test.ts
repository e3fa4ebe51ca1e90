import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSignInStore } from '../../functions/adapters/dynamodb/sign-in-store.ts';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import {
  type NewUser,
  UserExistsError,
  UserNotFoundError,
  type UserRecord,
} from '../../functions/oauth/ports.ts';
import { openTestStore, type TestStore } from '../helpers/dynamodb.ts';
import { newUserRecord } from '../helpers/users.ts';

let store: TestStore;
let users: DynamoUserStore;
let signIns: DynamoSignInStore;
beforeAll(async () => {
  store = await openTestStore();
  users = new DynamoUserStore(store.db, store.names.users);
  signIns = new DynamoSignInStore(store.db, store.names);
});
/** A login's count, as a sign-in writes it (SignInStore). */
const recordLogin = (user: UserRecord, at: string, loginId: string) => signIns.record({ user, at, loginId });
afterAll(() => store?.close());

const AT = '2030-01-01T00:00:00.000Z';
let sequence = 0;

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  return newUserRecord(`user${sequence++}`, { created_at: AT, ...overrides });
}

describe('user store', () => {
  it('creates a user once per realm and username, and finds it by name and by id', async () => {
    const user = newUser();
    const created = await users.create(user);
    expect(created).toEqual({ ...user, updated_at: AT, logins_count: 0 });
    await expect(users.create({ ...user, user_id: 'other' })).rejects.toBeInstanceOf(UserExistsError);
    expect(await users.findByUsername('customers', user.username_key)).toEqual(created);
    expect(await users.findById('customers', user.user_id)).toEqual(created);
    expect(await users.findByUsername('employees', user.username_key)).toBeUndefined();
  });

  it('ends sessions in the same write that sets a password or blocks (session_epoch)', async () => {
    const user = newUser();
    await users.create(user);
    expect((await users.setPassword('customers', user.username_key, 'new-hash', AT)).session_epoch).toBe(1);
    const blocked = await users.setBlocked('customers', user.username_key, true, AT);
    expect(blocked).toMatchObject({ blocked: true, session_epoch: 2, password_hash: 'new-hash' });
    expect((await users.setBlocked('customers', user.username_key, false, AT)).session_epoch).toBe(3);
  });

  it('does not touch session_epoch when counting logins or granting permissions', async () => {
    const user = newUser({ session_epoch: 41 });
    const created = await users.create(user);
    await recordLogin(created, AT, randomUUID());
    const granted = await users.setPermissions('customers', user.username_key, 'https://api/', ['read'], AT);
    expect(granted.session_epoch).toBe(41);
    expect(granted.logins_count).toBe(1);
  });

  it('deletes, and reports a missing user on every update', async () => {
    const user = newUser();
    await users.create(user);
    expect((await users.delete('customers', user.username_key)).user_id).toBe(user.user_id);
    expect(await users.findByUsername('customers', user.username_key)).toBeUndefined();
    await expect(users.setPassword('customers', user.username_key, 'x', AT)).rejects.toBeInstanceOf(
      UserNotFoundError,
    );
    await expect(users.setBlocked('customers', user.username_key, true, AT)).rejects.toBeInstanceOf(
      UserNotFoundError,
    );
    await expect(users.delete('customers', user.username_key)).rejects.toBeInstanceOf(UserNotFoundError);
  });

  it("deletes a user by id only while the username is still that user's", async () => {
    const user = newUser();
    await users.create(user);
    await users.delete('customers', user.username_key);
    const namesake = await users.create({ ...user, user_id: `${user.user_id}-again` });
    await expect(users.delete('customers', user.username_key, user.user_id)).rejects.toBeInstanceOf(
      UserNotFoundError,
    );
    expect(await users.findByUsername('customers', user.username_key)).toEqual(namesake);
    expect((await users.delete('customers', user.username_key, namesake.user_id)).user_id).toBe(
      namesake.user_id,
    );
    expect(await users.findByUsername('customers', user.username_key)).toBeUndefined();
  });

  it('counts logins exactly, also when they happen at once', async () => {
    const user = await users.create(newUser());
    // A fleet of devices sharing one account, starting at once: their transactions may meet on
    // the user item, and are tried again.
    await Promise.all(Array.from({ length: 10 }, () => recordLogin(user, AT, randomUUID())));
    expect(await users.findByUsername('customers', user.username_key)).toMatchObject({
      logins_count: 10,
      last_login: AT,
    });
  });

  it('counts a login once when its write is sent again after the answer was lost', async () => {
    const user = await users.create(newUser());
    // Ids whose receipts take different slots (a slot is picked by the id).
    const loginId = 'login-a';
    await recordLogin(user, AT, loginId);
    await recordLogin(user, AT, 'login-b');
    // The retry still holds the record as read before its first try.
    await recordLogin(user, AT, loginId);
    const stored = await users.findByUsername('customers', user.username_key);
    expect(stored?.logins_count).toBe(2);
    expect(Object.keys(stored ?? {}).filter((name) => name.startsWith('login_receipt'))).toEqual([]);
  });

  it('does not resurrect a deleted user or count a namesake when recording a login', async () => {
    const user = await users.create(newUser());
    await users.delete('customers', user.username_key);
    await recordLogin(user, AT, randomUUID());
    expect(await users.findByUsername('customers', user.username_key)).toBeUndefined();
    await users.create({ ...user, user_id: 'a-new-id', session_epoch: 0 });
    await recordLogin(user, AT, randomUUID());
    expect(await users.findByUsername('customers', user.username_key)).toMatchObject({
      user_id: 'a-new-id',
      logins_count: 0,
    });
  });

  it("takes back one login's count, once, and its last_login with it", async () => {
    const user = await users.create(newUser());
    await recordLogin(user, AT, 'first');
    const before = await users.findByUsername('customers', user.username_key);
    const later = '2030-01-02T00:00:00.000Z';
    await recordLogin(user, later, 'second');
    const undo = (loginId: string, previous: UserRecord | undefined) =>
      signIns.undo({ user: previous ?? user, at: later, loginId });
    await undo('second', before);
    await undo('second', before); // a retry
    await undo('never-counted', before);
    expect(await users.findByUsername('customers', user.username_key)).toMatchObject({
      logins_count: 1,
      last_login: AT,
    });
    await undo('first', user);
    const none = await users.findByUsername('customers', user.username_key);
    expect(none?.logins_count).toBe(0);
    expect(none?.last_login).toBeUndefined();
  });

  it("reads a login's user and the realm's hash cost classes in one read", async () => {
    const user = await users.create(newUser({ realm: 'login-read' }));
    expect(await users.findForLogin('login-read', user.username_key)).toEqual({
      user,
      costClasses: { classes: [], version: 0 },
    });
    await users.addHashCostClasses('login-read', ['$2b$10'], 0);
    const expected = { classes: ['$2b$10'], version: 1 };
    expect(await users.findForLogin('login-read', 'nobody')).toEqual({ costClasses: expected });
    // A username that cannot exist reads the classes alone.
    expect(await users.findForLogin('login-read', undefined)).toEqual({ costClasses: expected });
    expect((await users.findForLogin('login-read', user.username_key)).user).toEqual(user);
  });

  it('lists the users of one realm only', async () => {
    const frank = await users.create(newUser({ realm: 'staff' }));
    const grace = await users.create(newUser({ realm: 'staff' }));
    const listed = [];
    for await (const user of users.list('staff')) listed.push(user.username);
    expect(listed.sort()).toEqual([frank.username, grace.username].sort());
  });

  it("keeps a realm's hash cost classes apart from its users, each class once, each change versioned", async () => {
    expect(await users.hashCostClasses('legacy')).toEqual({ classes: [], version: 0 });
    expect(await users.addHashCostClasses('legacy', [], 0)).toBe(true);
    // Two imports and a login at the same moment, each having read version 0: one lands.
    const landed = await Promise.all([
      users.addHashCostClasses('legacy', ['$2b$10'], 0),
      users.addHashCostClasses('legacy', ['$2b$10', '$pbkdf2-sha256$i=100000,l=64'], 0),
      users.addHashCostClasses('legacy', ['$2b$12'], 0),
    ]);
    expect(landed.filter(Boolean)).toHaveLength(1);
    const afterFirst = await users.hashCostClasses('legacy');
    expect(afterFirst.version).toBe(1);
    // The others read again and add on top; a class already there is not added twice.
    expect(
      await users.addHashCostClasses('legacy', ['$2b$10', '$2b$12', '$pbkdf2-sha256$i=100000,l=64'], 1),
    ).toBe(true);
    expect(await users.addHashCostClasses('legacy', ['$2b$13'], 1)).toBe(false);
    const sorted = async (realm: string) => [...(await users.hashCostClasses(realm)).classes].sort();
    expect(await sorted('legacy')).toEqual(['$2b$10', '$2b$12', '$pbkdf2-sha256$i=100000,l=64']);
    expect(await users.hashCostClasses('legacy-two')).toEqual({ classes: [], version: 0 });
    await users.removeHashCostClasses('legacy', ['$2b$12', '$2b$08']);
    await users.removeHashCostClasses('legacy', []);
    expect(await sorted('legacy')).toEqual(['$2b$10', '$pbkdf2-sha256$i=100000,l=64']);
    expect((await users.hashCostClasses('legacy')).version).toBe(3);
    // Not a user: the realm's listing and a lookup by the realm's own name find nothing.
    const alice = await users.create(newUser({ realm: 'legacy' }));
    const listed = [];
    for await (const user of users.list('legacy')) listed.push(user.username);
    expect(listed).toEqual([alice.username]);
    expect(await users.findByUsername('legacy', '')).toBeUndefined();
  });

  it('claims an address for one user id per realm, takes over only a named stale claim, and lists no claim', async () => {
    const realm = `claims${sequence++}`;
    expect(await users.claimEmail(realm, 'ana@example.com', 'u1')).toBeUndefined();
    expect(await users.claimEmail(realm, 'ana@example.com', 'u1')).toBeUndefined(); // a retry
    expect(await users.claimEmail(realm, 'ana@example.com', 'u2')).toBe('u1');
    expect(await users.claimEmail(realm, 'ana@example.com', 'u2', 'u9')).toBe('u1');
    expect(await users.claimEmail(realm, 'ana@example.com', 'u2', 'u1')).toBeUndefined();
    await users.releaseEmail(realm, 'ana@example.com', 'u1'); // not the holder: nothing changes
    expect(await users.claimEmail(realm, 'ana@example.com', 'u3')).toBe('u2');
    await users.releaseEmail(realm, 'ana@example.com', 'u2');
    expect(await users.claimEmail(realm, 'ana@example.com', 'u3')).toBeUndefined();
    expect(await users.claimEmail(`${realm}x`, 'ana@example.com', 'u4')).toBeUndefined();
    const listed = [];
    for await (const user of users.list(realm)) listed.push(user);
    expect(listed).toEqual([]);
  });
});
